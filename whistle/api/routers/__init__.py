"""The API's routers, one module per part of the mechanism. Each module has a `router`; a
new one joins by its name in `whistle.api.main.ROUTERS`."""
