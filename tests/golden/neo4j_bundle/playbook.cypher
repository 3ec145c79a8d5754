// fraudmine analyst playbook (Neo4j 5). Set parameters first, e.g. :param merchant => 'm0000042'

// ring: accounts linked to a merchant through shared non-hub identifiers (≤ 3 hops)
// parameters: $merchant, $limit (default 50)
MATCH p = (m:Merchant {id: $merchant})-[:USES*1..6]-(other)
WHERE other:Account AND other <> m AND all(n IN nodes(p) WHERE NOT coalesce(n.is_hub, false))
WITH other, p ORDER BY length(p), [n IN nodes(p) | n.node_id]
WITH other, collect(p)[0] AS p
RETURN other.node_id AS account, length(p) / 2 AS hops,
       [n IN nodes(p) WHERE n:Identifier | n.identifier_type] AS via,
       other.fraud_risk AS fraud_risk, other.risk_band AS risk_band
ORDER BY hops, coalesce(fraud_risk, -1.0) DESC, account
LIMIT $limit;

// collusion: a collusion cluster: members, risks, reasons, shared identifiers, evidence
// parameters: $cluster
MATCH (c:CollusionCluster {cluster_id: $cluster})<-[r:MEMBER_OF]-(m)
OPTIONAL MATCH (m)-[:USES]->(i:Identifier)<-[:USES]-(o)-[:MEMBER_OF]->(c)
WHERE o <> m AND NOT coalesce(i.is_hub, false)
WITH c, m, r, collect(DISTINCT i.identifier_type) AS shared, count(DISTINCT o) AS linked
RETURN c.id AS cluster, c.size AS size, c.risk AS cluster_risk, c.evidence AS evidence,
       m.node_id AS member, r.role AS role, m.fraud_risk AS fraud_risk, m.risk_band AS risk_band,
       m.reasons AS reasons, linked AS linked_members, shared AS shared_identifier_types
ORDER BY coalesce(fraud_risk, -1.0) DESC, member;

// duplicates: a duplicate-listing cluster, canonical listing first, with sellers
// parameters: $cluster
MATCH (c:DuplicateCluster {cluster_id: $cluster})<-[r:MEMBER_OF]-(p:Product)
OPTIONAL MATCH (s:Merchant)-[:SELLS]->(p)
RETURN c.id AS cluster, c.size AS size, r.role AS role, p.id AS listing, p.title AS title,
       p.price AS price, s.id AS merchant, s.fraud_risk AS merchant_risk
ORDER BY CASE r.role WHEN 'canonical' THEN 0 ELSE 1 END, listing;

// counterfeit: unauthorised sellers of a brand's listings and the sellers they share identifiers with
// parameters: $brand, $limit (default 50)
MATCH (b:Brand {id: $brand})<-[:CLAIMS_BRAND|VIOLATES]-(p:Product)<-[:SELLS]-(m:Merchant)
WHERE NOT (m)-[:AUTHORIZED_FOR]->(b)
WITH b, m, count(DISTINCT p) AS listings, min(p.price) AS min_price
OPTIONAL MATCH (m)-[:USES]->(i:Identifier)<-[:USES]-(o:Merchant)
               -[:SELLS]->(:Product)-[:CLAIMS_BRAND|VIOLATES]->(b)
WHERE o <> m AND NOT coalesce(i.is_hub, false) AND NOT (o)-[:AUTHORIZED_FOR]->(b)
WITH m, listings, min_price, collect(DISTINCT o.id) AS linked
RETURN m.id AS merchant, listings, min_price, m.fraud_risk AS fraud_risk, m.risk_band AS risk_band,
       linked AS linked_sellers
ORDER BY listings DESC, coalesce(fraud_risk, -1.0) DESC, merchant
LIMIT $limit;

// reporters: accounts reporting a merchant or its listings, their rings and linked co-reporters
// parameters: $merchant, $limit (default 50)
MATCH (m:Merchant {id: $merchant})
OPTIONAL MATCH (m)-[:SELLS]->(p:Product)
WITH m, collect(p) + [m] AS targets
UNWIND targets AS t
MATCH (r:Account)-[e:REPORTED]->(t)
WITH m, targets, r, toInteger(sum(e.n_events)) AS reports,
     min(e.first_ts) AS first_report, max(e.last_ts) AS last_report
OPTIONAL MATCH (r)-[:MEMBER_OF]->(ring:ReporterRing)
OPTIONAL MATCH (r)-[:USES]->(i:Identifier)<-[:USES]-(o:Account)-[:REPORTED]->(t2)
WHERE o <> r AND NOT coalesce(i.is_hub, false) AND t2 IN targets
WITH r, reports, first_report, last_report, collect(DISTINCT ring.id) AS rings, collect(DISTINCT o.node_id) AS linked
RETURN r.node_id AS reporter, rings, reports, first_report, last_report, linked AS linked_reporters,
       r.fraud_risk AS reporter_risk
ORDER BY size(rings) DESC, size(linked) DESC, reports DESC, reporter
LIMIT $limit;

// shortest_path: a shortest path between two accounts (typed ids) that never passes through a hub identifier
// parameters: $source, $target
MATCH (a:Account {node_id: $source}), (b:Account {node_id: $target})
MATCH p = shortestPath((a)-[:SELLS|USES|PROMOTES|ORDERED|REVIEWED|FILES|TARGETS|REPORTED*..8]-(b))
WHERE all(n IN nodes(p) WHERE NOT coalesce(n.is_hub, false))
RETURN [n IN nodes(p) | n.node_id] AS path, length(p) AS hops;

// clusters: riskiest clusters by exposure (risk x order value through the members)
// parameters: $kind, $limit (default 50)
MATCH (c:Cluster)
WHERE $kind IS NULL OR c.kind = $kind
OPTIONAL MATCH (c)<-[:MEMBER_OF]-(m)
WITH c, avg(m.fraud_risk) AS member_risk, count(m) AS members
OPTIONAL MATCH (c)<-[:MEMBER_OF]-(:Account)-[:SELLS]->(:Product)<-[o1:ORDERED]-()
WITH c, member_risk, members, coalesce(sum(o1.weight), 0.0) AS sold
OPTIONAL MATCH (c)<-[:MEMBER_OF]-(:Account)-[o2:ORDERED]->()
WITH c, member_risk, members, sold, coalesce(sum(o2.weight), 0.0) AS bought
OPTIONAL MATCH (c)<-[:MEMBER_OF]-(:Product)<-[o3:ORDERED]-()
WITH c, member_risk, members, sold, bought, coalesce(sum(o3.weight), 0.0) AS listed
WITH c, members, sold + bought + listed AS order_value, coalesce(c.risk, member_risk, 0.0) AS risk
RETURN c.id AS cluster, c.kind AS kind, members, risk, order_value, risk * order_value AS exposure
ORDER BY exposure DESC, risk DESC, cluster
LIMIT $limit;
