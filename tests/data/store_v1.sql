-- A version-1 store (schema 1, before orders.avg_price) as the program at commit 13bb949 wrote it:
-- two order rows (one FILLED, one NEW) and a fill; sqlite3's iterdump. Read by tests/unit/test_store_open.py.
BEGIN TRANSACTION;
CREATE TABLE "book" ("id" INTEGER NOT NULL PRIMARY KEY, "bot_id" VARCHAR(32) NOT NULL, "symbol" VARCHAR(32) NOT NULL, "next_gen" INTEGER NOT NULL, "dust" TEXT NOT NULL, "dust_cost" TEXT NOT NULL, "held_total" INTEGER NOT NULL, "buy_working_total" INTEGER NOT NULL);
CREATE TABLE "control" ("id" INTEGER NOT NULL PRIMARY KEY, "bot_id" VARCHAR(32) NOT NULL, "symbol" VARCHAR(32) NOT NULL, "key" VARCHAR(64) NOT NULL, "value" TEXT NOT NULL);
CREATE TABLE "fill" ("id" INTEGER NOT NULL PRIMARY KEY, "bot_id" VARCHAR(32) NOT NULL, "symbol" VARCHAR(32) NOT NULL, "trade_id" INTEGER NOT NULL, "client_id" VARCHAR(36) NOT NULL, "side" VARCHAR(4) NOT NULL, "price" INTEGER NOT NULL, "qty" INTEGER NOT NULL, "cum_qty" INTEGER NOT NULL, "fee" TEXT NOT NULL, "fee_asset" VARCHAR(16) NOT NULL, "time_ms" INTEGER NOT NULL, "is_maker" INTEGER NOT NULL, "order_id" INTEGER NOT NULL);
INSERT INTO "fill" VALUES(1,'mm1','BTCUSDT',7,'mm1_B5yc1s_1','BUY',10000000,100,100,'0.0001','BTC',1500,1,41);
CREATE TABLE "lock" ("id" INTEGER NOT NULL PRIMARY KEY, "bot_id" VARCHAR(32) NOT NULL, "symbol" VARCHAR(32) NOT NULL, "owner" TEXT NOT NULL, "pid" INTEGER NOT NULL, "host" TEXT NOT NULL, "since_ms" INTEGER NOT NULL, "heartbeat_ms" INTEGER NOT NULL);
CREATE TABLE "orders" ("id" INTEGER NOT NULL PRIMARY KEY, "bot_id" VARCHAR(32) NOT NULL, "symbol" VARCHAR(32) NOT NULL, "client_id" VARCHAR(36) NOT NULL, "level" INTEGER NOT NULL, "side" VARCHAR(4) NOT NULL, "price" INTEGER NOT NULL, "qty" INTEGER NOT NULL, "status" VARCHAR(24) NOT NULL, "order_id" INTEGER, "executed_qty" INTEGER NOT NULL, "created_ms" INTEGER NOT NULL, "updated_ms" INTEGER NOT NULL);
INSERT INTO "orders" VALUES(1,'mm1','BTCUSDT','mm1_B5yc1s_1',10000000,'BUY',10000000,100,'FILLED',41,100,1000,2000);
INSERT INTO "orders" VALUES(2,'mm1','BTCUSDT','mm1_B5yctk_2',10001000,'BUY',10001000,100,'NEW',42,0,3000,3500);
CREATE TABLE "risk" ("id" INTEGER NOT NULL PRIMARY KEY, "bot_id" VARCHAR(32) NOT NULL, "symbol" VARCHAR(32) NOT NULL, "doc" TEXT NOT NULL);
CREATE TABLE "round_trip" ("id" INTEGER NOT NULL PRIMARY KEY, "bot_id" VARCHAR(32) NOT NULL, "symbol" VARCHAR(32) NOT NULL, "level" INTEGER NOT NULL, "qty" INTEGER NOT NULL, "buy_cost" TEXT NOT NULL, "proceeds" TEXT NOT NULL, "fees" TEXT NOT NULL, "realized" TEXT NOT NULL, "time_ms" INTEGER NOT NULL);
CREATE TABLE "schema_version" ("version" INTEGER NOT NULL PRIMARY KEY, "name" TEXT NOT NULL, "applied_at" TEXT NOT NULL);
INSERT INTO "schema_version" VALUES(1,'initial schema','2026-12-07T03:55:54+00:00');
CREATE TABLE "slot" ("id" INTEGER NOT NULL PRIMARY KEY, "bot_id" VARCHAR(32) NOT NULL, "symbol" VARCHAR(32) NOT NULL, "level" INTEGER NOT NULL, "state" VARCHAR(16) NOT NULL, "client_id" VARCHAR(36) NOT NULL, "doc" TEXT NOT NULL);
CREATE UNIQUE INDEX "book_bot_id_symbol" ON "book" ("bot_id", "symbol");
CREATE UNIQUE INDEX "control_bot_id_symbol_key" ON "control" ("bot_id", "symbol", "key");
CREATE UNIQUE INDEX "fill_bot_id_symbol_trade_id" ON "fill" ("bot_id", "symbol", "trade_id");
CREATE INDEX "fill_bot_id_symbol_time_ms" ON "fill" ("bot_id", "symbol", "time_ms");
CREATE UNIQUE INDEX "lock_bot_id_symbol" ON "lock" ("bot_id", "symbol");
CREATE UNIQUE INDEX "orders_bot_id_symbol_client_id" ON "orders" ("bot_id", "symbol", "client_id");
CREATE INDEX "orders_bot_id_symbol_status" ON "orders" ("bot_id", "symbol", "status");
CREATE UNIQUE INDEX "risk_bot_id_symbol" ON "risk" ("bot_id", "symbol");
CREATE INDEX "round_trip_bot_id_symbol_time_ms" ON "round_trip" ("bot_id", "symbol", "time_ms");
CREATE UNIQUE INDEX "slot_bot_id_symbol_level" ON "slot" ("bot_id", "symbol", "level");
CREATE INDEX "slot_bot_id_symbol_client_id" ON "slot" ("bot_id", "symbol", "client_id");
COMMIT;
