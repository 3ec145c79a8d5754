// fraudmine analyst graph: constraints and indexes (Neo4j 5, idempotent)
CREATE CONSTRAINT merchant_id IF NOT EXISTS FOR (n:Merchant) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT creator_id IF NOT EXISTS FOR (n:Creator) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT product_id IF NOT EXISTS FOR (n:Product) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT brand_id IF NOT EXISTS FOR (n:Brand) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT buyer_id IF NOT EXISTS FOR (n:Buyer) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT identifier_id IF NOT EXISTS FOR (n:Identifier) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT cluster_id IF NOT EXISTS FOR (n:Cluster) REQUIRE n.id IS UNIQUE;
CREATE INDEX account_node_id IF NOT EXISTS FOR (n:Account) ON (n.node_id);
CREATE INDEX cluster_kind IF NOT EXISTS FOR (n:Cluster) ON (n.kind);
CREATE INDEX merchant_fraud_risk IF NOT EXISTS FOR (n:Merchant) ON (n.fraud_risk);
CREATE INDEX identifier_is_hub IF NOT EXISTS FOR (n:Identifier) ON (n.is_hub);
