"""The WeChat server API: the HTTP client, and a simulator that speaks the same contract."""
