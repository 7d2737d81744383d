"""The local web interface (``statjr serve``)."""
