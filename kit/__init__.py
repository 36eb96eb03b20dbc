"""Kit do curso Monitoramento MLOps."""
__version__ = "0.1.0"
