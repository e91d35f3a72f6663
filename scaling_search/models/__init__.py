"""Base networks as immutable data, their scaling rules, realised layouts and one builder.

EfficientNet-B0 is the default base; :func:`base_network` names the others (torchvision's
``mobilenet_v2``, ``resnet50``, ``regnet_y_400mf``, ``efficientnet_v2_s``) or reads a TOML stage
table (:func:`load_base`, format in ``docs/base_networks.md``).
"""
