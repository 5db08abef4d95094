"""omads-gateway."""
