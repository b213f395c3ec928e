"""Stored balances that must equal their append-only ledgers, checked by the server (issue 15).

A community worker who may redeem points holds UPDATE on ``volunteer_accounts`` (the program moves
the balance with a guarded statement next to each ledger entry), so privileges alone would let them
add 99,999 points with psql. Deferred constraint triggers, owned by the owner (a user can neither
drop nor disable them), check at each commit that every balance touched in the transaction equals
its ledger: points and minutes against ``volunteer_points_ledger`` / ``volunteer_hours_ledger``, a
reward item's stock against ``volunteer_stock_moves``, a batch's quantity against
``emergency_stock_moves`` — and a ledger entry added without its balance fails the same way. A
forged balance then needs a forged ledger entry, which the ledgers' hash chains and the server's
audit record. The refusal is SQLSTATE 42501 with a Chinese message (``refusal.py`` shows it as is).

``install(conn, key)`` is called by ``rls.install``; idempotent.
"""
from __future__ import annotations

from sqlalchemy import text

# name: (balance table, key column of it, [(balance column, ledger table, ledger key column, ledger amount, words)])
GUARDS = {
    "volunteer_account": ("volunteer_accounts", "volunteer_id", [
        ("points_balance", "volunteer_points_ledger", "volunteer_id", "points", "积分余额与积分台账"),
        ("approved_minutes", "volunteer_hours_ledger", "volunteer_id", "minutes", "服务时长与时长台账"),
    ]),
    "volunteer_item": ("volunteer_reward_items", "id", [
        ("stock", "volunteer_stock_moves", "item_id", "quantity", "兑换物品库存与出入库记录"),
    ]),
    "emergency_batch": ("emergency_batches", "id", [
        ("qty", "emergency_stock_moves", "batch_id", "qty", "物资批次数量与出入库记录"),
    ]),
}


def _function(name: str, table: str, key: str, checks) -> str:
    body = []
    for column, ledger, ledger_key, amount, words in checks:
        body.append(f"""
    IF (SELECT b.{column} FROM {table} b WHERE b.{key} = k) IS DISTINCT FROM
       (SELECT coalesce(sum(l.{amount}), 0) FROM {ledger} l WHERE l.{ledger_key} = k) THEN
        RAISE EXCEPTION USING ERRCODE = '42501',
            MESSAGE = format('{words}不一致（%s 第 %s 号）：余额只能随台账记录一起变动，刚才的操作没有保存。', '{table}', k);
    END IF;""")
    return f"""CREATE OR REPLACE FUNCTION jiedao_sec.balance_{name}() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE k bigint;
BEGIN
    k := CASE WHEN TG_TABLE_NAME = '{table}' THEN (to_jsonb(NEW) ->> '{key}')::bigint
              ELSE (to_jsonb(NEW) ->> TG_ARGV[0])::bigint END;
    IF k IS NULL OR NOT EXISTS (SELECT 1 FROM {table} b WHERE b.{key} = k) THEN
        RETURN NULL;
    END IF;{''.join(body)}
    RETURN NULL;
END $$"""


def statements(conn) -> list[str]:
    present = set(conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())
    out = []
    for name, (table, key, checks) in GUARDS.items():
        if table not in present or any(c[1] not in present for c in checks):
            continue
        out.append(_function(name, table, key, checks))
        out.append(f"REVOKE ALL ON FUNCTION jiedao_sec.balance_{name}() FROM PUBLIC")
        targets = [(table, key)] + sorted({(c[1], c[2]) for c in checks})
        for target, column in targets:
            trigger = f"jiedao_balance_{name}"
            out.append(f'DROP TRIGGER IF EXISTS {trigger} ON "{target}"')
            events = "INSERT OR UPDATE" if target == table else "INSERT"
            arg = "" if target == table else f"'{column}'"
            out.append(f'CREATE CONSTRAINT TRIGGER {trigger} AFTER {events} ON "{target}" '
                       f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION jiedao_sec.balance_{name}({arg})")
    return out


def install(conn, key: str) -> None:
    for sql in statements(conn):
        conn.execute(text(sql))
