"""WattDesk application domain: site model, acquisition, point cache, CLI (Qt only in ``app.ui``)."""
