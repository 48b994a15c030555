"""Every business rule, one module per job; views, the CLI and the seed's facade call these.

login (the hot path), bindings, user_data, api_tokens, users, corps, login_methods, console_accounts,
audit, dashboard; gateway is the one way to WeChat.
"""
