"""Who exists and who may do what: agencies, accounts, peer gateways."""
