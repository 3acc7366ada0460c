"""SMTP edges: submission for clerks and agency systems, relay between gateways. Thin handlers over domain code."""
