"""The analysts' marts against what the sandbox knows it holds: every appointment with its status (a no-show counted
once, in either shape Acuity has used), orders, contacts' lifetime facts, form answers and labels."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from helpers import AS_OF, Env

from sandbox.account import AppointmentQuery

AS_OF_UTC = datetime(AS_OF.year, AS_OF.month, AS_OF.day, tzinfo=UTC)


def status(canceled: bool, no_show: bool) -> str:
    """Acuity marks a no-show through its cancel call (canceled and noShow both true); older data has noShow alone."""
    return "no_show" if no_show else "canceled" if canceled else "scheduled"


def test_appointments_mart_holds_every_appointment_with_its_status(synced_env: Env) -> None:
    served = {a.id: a for a in synced_env.account.iter_appointments()}
    rows = synced_env.query("select appointment_id, status, is_future, match_rule from marts.appointments")
    assert {r[0] for r in rows} == set(served)
    assert {r[0]: r[1] for r in rows} == {i: status(a.canceled, a.no_show) for i, a in served.items()}
    assert {r[0]: r[2] for r in rows} == {i: a.start >= AS_OF_UTC for i, a in served.items()}
    assert Counter(r[1] for r in rows)["no_show"] > 0
    future = synced_env.query(
        "select appointment_id from marts.appointments where is_future and status in ('scheduled', 'no_show')"
        " except select appointment_id from marts.future_appointments"
    )
    assert future == [] or all(served[i].no_show and not served[i].canceled for (i,) in future)


def test_a_no_show_in_acuitys_documented_shape_counts_once(env: Env) -> None:
    """canceled: true, noShow: true is one no-show: not a cancellation in the mart, the contact's facts or the rates."""
    assert env.sync().failures == []
    recent = [
        a
        for a in env.account.iter_appointments()
        if AS_OF_UTC - timedelta(days=30) < a.start < AS_OF_UTC and not a.canceled and not a.no_show
    ]  # within the live window the next run re-reads
    target = recent[0]
    env.account.cancel(target.id)
    env.account.set_no_show(target.id)
    assert env.sync().failures == []

    served = env.account.appointment(target.id)
    assert served["canceled"] is True and served["noShow"] is True
    assert env.query(f"select status from marts.appointments where appointment_id = {target.id}") == [("no_show",)]
    contact = env.query(
        f"""select c.cancellations, c.no_shows from marts.contacts c join marts.appointments a
            using (tenant_id, contact_id) where a.appointment_id = {target.id}"""
    )
    counts = env.query(
        f"""select count(*) filter (where status = 'canceled'), count(*) filter (where status = 'no_show')
            from marts.appointments where contact_id = (select contact_id from marts.appointments
            where appointment_id = {target.id})"""
    )
    assert contact == counts and contact[0][1] >= 1


def test_orders_and_contacts_carry_their_facts(synced_env: Env) -> None:
    truth = synced_env.account.ground_truth()
    orders = synced_env.query("select order_id, order_status, counts_as_revenue from marts.orders")
    assert {r[0] for r in orders} == {o.id for o in synced_env.account.iter_orders()}
    assert all(r[2] == (r[1] in ("paid", "delivered")) for r in orders)
    revenue = synced_env.query(
        "select sum(order_revenue), count(*) filter (where order_revenue > 0) from marts.contacts"
    )[0]
    reconciliation = synced_env.query(
        "select total_revenue, matched_revenue, unmatched_revenue, contacts_with_revenue"
        " from marts.revenue_reconciliation"
    )
    assert reconciliation == [
        (truth["revenue_total"], revenue[0], truth["unmatched_revenue"], truth["contacts_with_revenue"])
    ]
    assert revenue[1] == truth["contacts_with_revenue"]
    # lifetime facts add up to the appointments mart
    assert synced_env.query(
        """select sum(appointments), sum(no_shows), count(next_appointment_at) from marts.contacts"""
    ) == synced_env.query(
        """select count(*), count(*) filter (where status = 'no_show'),
                  count(distinct contact_id) filter (where status = 'scheduled' and is_future)
           from marts.appointments where contact_id is not null and status <> 'removed'"""
    )


def test_form_answers_and_labels_are_queryable(synced_env: Env) -> None:
    """Every intake answer and label Acuity sent, as sent (empty names and \r\n included: the demo sends both)."""
    served = synced_env.account.appointments(AppointmentQuery(max=10**6, status="all"))
    answers = synced_env.query(
        "select appointment_id, field_id, field_name, answer from marts.appointment_form_answers"
    )
    assert sorted(answers) == sorted(
        (row["id"], value["fieldID"], value["name"], value["value"])
        for row in served
        for form in row.get("forms") or []
        for value in form["values"]
    )
    assert len(answers) > 0
    assert any("\r\n" in answer for *_, answer in answers) and any(name == "" for _, _, name, _ in answers)
    labels = synced_env.query("select appointment_id, label_id, label_name, label_color from marts.appointment_labels")
    assert sorted(labels) == sorted(
        (row["id"], label["id"], label["name"], label["color"]) for row in served for label in row.get("labels") or []
    )
    assert len(labels) > 0


def test_appointment_money_equals_the_sandbox_value_by_value(synced_env: Env) -> None:
    """price and amount_paid of each appointment, what each contact paid on its appointments and the account's
    total, against the sandbox's records."""
    truth = synced_env.account.ground_truth()
    money = synced_env.query("select appointment_id, price, amount_paid from marts.appointments")
    assert {i: (price, paid) for i, price, paid in money} == truth["appointment_money"]
    paid = synced_env.query(
        """select c.merge_identifier, r.appointment_payments from marts.contact_revenue r
           join marts.contacts c using (tenant_id, contact_id)"""
    )
    assert dict(paid) == truth["appointment_payments_by_contact"]
    assert synced_env.query("select appointment_payments from marts.revenue_reconciliation") == [
        (truth["appointment_payments"],)
    ]
    assert truth["appointment_payments"] > 0 and len({p for _, p, _ in money}) > 1, "the values can tell apart"
