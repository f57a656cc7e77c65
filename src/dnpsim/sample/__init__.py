"""The sample: radicals, their powder orientations, and the nuclei around them."""
