"""The benchmark site: the monolith's production settings plus a bare baseline view."""
