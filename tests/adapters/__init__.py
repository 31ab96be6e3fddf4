"""Adapters: small files that make a layer the spec cannot construct as ``Cls(units, ...)``, or whose forward pass
is ``Dense`` on transformed weights, checkable without editing it (docs/forward-contract.md)."""
