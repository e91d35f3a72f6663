"""Complexity of a realised layout: closed form (:mod:`.analytic`) and measured by fvcore (:mod:`.measured`).

Only the analytic counter is imported here, so training code never pulls in fvcore.
"""
