"""Cryptography of the federated components: Paillier for vectors of fixed-point numbers."""
