"""The sandbox: `python app.py sandbox` runs the real bot against Slack and X stand-ins.

It needs no accounts: a web page shows what Slack would show (the bot's own Block Kit,
threads, modals, ephemeral answers, the App Home, DMs) next to a customer's view of X.
For trying the product and for training new agents without touching real customers.
"""
