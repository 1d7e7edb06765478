"""Domain code shared by every trapheus Lambda function (deployed as a layer)."""

__version__ = "0.1.0"
