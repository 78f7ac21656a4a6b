"""The operator workstation: main window and views (the only part of ``app`` that imports Qt)."""
