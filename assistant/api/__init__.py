"""HTTP API pieces shared by the server and its routers: error bodies, middleware, auth."""
