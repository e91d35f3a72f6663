"""One proxy training run: the recipe and budget, the training step, the device, and train_proxy."""
