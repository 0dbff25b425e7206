"""Tokenizer losses: LPIPS (VGG16 from local weights), adversarial patch discriminator, VF
alignment. L1 reconstruction is written inline in the training script; the baselines'
entropy penalties come through the quantizer's ``aux_loss``.
"""

from .discriminator import (
    AdversarialLoss,
    PatchDiscriminator,
    adaptive_weight,
    discriminator_loss,
    generator_loss,
    r1_penalty,
)
from .lpips import LPIPS, VGG16Features, lpips_missing_message, read_state_dict
from .vf_align import DINOv2Features, VFAlignLoss, load_feature_network, vf_missing_message

__all__ = [
    "LPIPS",
    "AdversarialLoss",
    "DINOv2Features",
    "PatchDiscriminator",
    "VFAlignLoss",
    "VGG16Features",
    "adaptive_weight",
    "discriminator_loss",
    "generator_loss",
    "load_feature_network",
    "lpips_missing_message",
    "r1_penalty",
    "read_state_dict",
    "vf_missing_message",
]
