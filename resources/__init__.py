"""Packaged resources: device templates and the demo site (YAML), later icons, styles, translations."""

from pathlib import Path

RESOURCES_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = RESOURCES_DIR / "templates"
DEMO_SITE = RESOURCES_DIR / "sites" / "demo.yaml"
