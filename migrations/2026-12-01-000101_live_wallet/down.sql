DROP TABLE live.gifts_sent;
DROP TABLE live.gifts;
DROP TABLE live.recharge_orders;
DROP TABLE live.ledger;
DROP TABLE live.wallets;
