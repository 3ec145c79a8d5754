"""Heterogeneous GNNs over the typed marketplace graph (PyTorch Geometric, full batch on CPU).

``data`` turns the ``graph`` stage's nodes and edges into a :class:`torch_geometric.data.HeteroData`;
``nets`` holds the networks (``to_hetero`` GraphSAGE, HGT); ``train`` fits one of them for one
target node type (``fit_hetero``) or for several tasks over several node types at once
(``fit_hetero_tasks``) and returns scores and embeddings.
"""
