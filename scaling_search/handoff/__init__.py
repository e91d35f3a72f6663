"""Hand-off of a derived family to other tools: timm, torchvision, ONNX and torch.export, with a manifest.

``timm_model`` (``to_timm``) and ``torchvision_model`` (``to_torchvision``) build the library's
class with exactly the network a :class:`~scaling_search.models.layout.Layout` describes, or refuse
in one line (``limits``); ``pairing`` proves the two are the same network layer by layer and names
each parameter in both; ``weights`` maps state dicts both ways; ``layers`` gives the library the
layout's BatchNorm and activation; ``extras`` imports the optional libraries (the ``export``
extra). ``deployables`` writes a family's members as ONNX files (``onnx_file``) and
torch.export programs (``exported_program``), each checked against PyTorch (``agreement``), with a
``manifest``; ``sources`` finds the family (a study's best, or coefficients); ``members`` reads a
member's layout back.
"""
