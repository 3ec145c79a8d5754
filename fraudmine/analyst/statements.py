"""Upsert and delete statements (pure): allow-listed names in the text, every value in ``$rows``.

Each statement takes ``$rows``, a list of maps:

* node upsert: ``{id, props}`` → ``MERGE (n:Space:Extra {id: row.id}) SET n += row.props`` (a node
  always carries the same labels, so the MERGE pattern names them all);
  a property whose value is null is removed (``SET +=`` semantics on both engines);
* node delete: ``{id}`` → ``DETACH DELETE``;
* relationship upsert: ``{start, end, props}`` → ``MATCH`` both ends by key, ``MERGE`` the
  relationship, ``SET r += row.props``;
* relationship delete: ``{start, end}``.
"""

from __future__ import annotations

from collections.abc import Sequence

from fraudmine.analyst import model as M


def node_upsert(space: str, extra_labels: Sequence[str] = ()) -> str:
    """``UNWIND $rows`` MERGE of nodes of one ID space, adding ``extra_labels``.

    Raises:
        AllowListError: if a label is not allowed.
    """
    labels = "".join(f":{M.check_label(x)}" for x in (space, *extra_labels))
    return f"UNWIND $rows AS row MERGE (n{labels} {{{M.KEY}: row.id}}) SET n += row.props"


def node_delete(space: str) -> str:
    """``UNWIND $rows`` DETACH DELETE of nodes of one ID space by key."""
    return f"UNWIND $rows AS row MATCH (n:{M.check_label(space)} {{{M.KEY}: row.id}}) DETACH DELETE n"


def rel_upsert(rel_type: str, start_space: str, end_space: str) -> str:
    """``UNWIND $rows`` MERGE of relationships of one type between two ID spaces.

    Raises:
        AllowListError: if a label or the type is not allowed.
    """
    s, e, t = M.check_label(start_space), M.check_label(end_space), M.check_rel_type(rel_type)
    return (
        f"UNWIND $rows AS row MATCH (a:{s} {{{M.KEY}: row.start}}) MATCH (b:{e} {{{M.KEY}: row.end}}) "
        f"MERGE (a)-[r:{t}]->(b) SET r += row.props"
    )


def rel_delete(rel_type: str, start_space: str, end_space: str) -> str:
    """``UNWIND $rows`` delete of relationships of one type by their end keys."""
    s, e, t = M.check_label(start_space), M.check_label(end_space), M.check_rel_type(rel_type)
    return f"UNWIND $rows AS row MATCH (a:{s} {{{M.KEY}: row.start}})-[r:{t}]->(b:{e} {{{M.KEY}: row.end}}) DELETE r"
