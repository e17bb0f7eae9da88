"""Stand-ins of the Slack Web API and the X API v2: real HTTP servers on loopback.

They answer in the real services' formats, errors and rate limits included. The tests
drive the bot against them, and so will the sandbox (`python app.py sandbox`).
"""
