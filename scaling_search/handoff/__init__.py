"""Hand-off of a derived family to other tools: timm, torchvision, ONNX and torch.export, with a manifest."""
