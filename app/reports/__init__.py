"""Reports written to files (PDF with reportlab, Excel with openpyxl), Qt-free, for the CLI
(``wattdesk report``) and the workstation.

* :mod:`app.reports.alarm_health` — ISA-18.2 alarm-system health of a period.
"""
