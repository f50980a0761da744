"""RFC 6962 Merkle hashing lives in ``gov21.core.merkle``, shared by every chain; the exchange's
commands and tests name it here as before."""

from gov21.core.merkle import inclusion_proof, leaf_hash, node_hash, root, verify_inclusion

__all__ = ["inclusion_proof", "leaf_hash", "node_hash", "root", "verify_inclusion"]
