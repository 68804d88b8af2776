"""Data: generated shapes, embedded samples, torchvision loaders, augmentation and TTA."""
