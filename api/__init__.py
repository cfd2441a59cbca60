"""The Litestar application: controllers per domain folder, auth, problem JSON errors."""
