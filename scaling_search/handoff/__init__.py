"""Hand-off: a scaling-search network as timm's or torchvision's own model class, with its weights.

``timm_model`` (``to_timm``) and ``torchvision_model`` (``to_torchvision``) build the library's
class with exactly the network a :class:`~scaling_search.models.layout.Layout` describes, or refuse
in one line (``limits``); ``pairing`` proves the two are the same network layer by layer and names
each parameter in both; ``weights`` maps state dicts both ways; ``layers`` gives the library the
layout's BatchNorm and activation; ``extras`` imports the optional libraries (the ``export`` extra).
"""
