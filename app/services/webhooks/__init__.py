"""Outgoing integrations: signed webhooks and WeCom / DingTalk group robots.

events     ``emit(event_type, hubs, data)``: the one hook; messages written with the change
endpoints  register, list, change, enable, remove, test an endpoint; its delivery log
addresses  which URLs an endpoint may call (http(s), public addresses unless allowed)
signing    Standard Webhooks signatures; DingTalk's signed mode
robots     an event as a Chinese text or markdown message for WeCom or DingTalk
delivery   one try of one message (the ``webhooks.deliver`` job): send, log, retry, disable
"""
