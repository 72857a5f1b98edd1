"""The analysts' marts against what the sandbox knows it holds: every appointment with its status (a no-show counted
once, in either shape Acuity has used), orders, contacts' lifetime facts, form answers and labels."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from helpers import AS_OF, Env

from sandbox.account import AppointmentQuery
from sandbox.catalog import CALENDARS as CALENDAR_LIST
from sandbox.design import ADDONS_BY_ID as ADDONS

AS_OF_UTC = datetime(AS_OF.year, AS_OF.month, AS_OF.day, tzinfo=UTC)
CALENDARS = {c.id: c for c in CALENDAR_LIST}


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
    """List price, price sold, discount and amount paid of each appointment, each contact's order revenue, appointment
    payments and total collected, and the account's totals, against the sandbox's records: canceled appointments
    that were paid count, and an appointment a package code paid for carries only what was paid on top."""
    truth = synced_env.account.ground_truth()
    money = synced_env.query("select appointment_id, price, price_sold, discount, amount_paid from marts.appointments")
    assert {i: (price, sold, paid) for i, price, sold, _, paid in money} == truth["appointment_money"]
    assert all(discount == price - sold for _, price, sold, discount, _ in money)
    assert len({discount for *_, discount, _ in money}) > 2, "coupons of several sizes, and none"
    per_contact = synced_env.query(
        """select c.merge_identifier, r.order_revenue, r.appointment_payments, r.total_collected
           from marts.contact_revenue r join marts.contacts c using (tenant_id, contact_id)"""
    )
    orders, payments = truth["order_revenue_by_contact"], truth["appointment_payments_by_contact"]
    assert {key: (o, p, t) for key, o, p, t in per_contact} == {
        key: (orders[key], payments[key], orders[key] + payments[key]) for key in payments
    }
    reconciliation = synced_env.query(
        """select total_revenue, appointment_payments, matched_appointment_payments, unmatched_appointment_payments,
                  total_collected from marts.revenue_reconciliation"""
    )
    unmatched = truth["appointment_payments"] - truth["matched_appointment_payments"]
    assert reconciliation == [
        (
            truth["revenue_total"],
            truth["appointment_payments"],
            truth["matched_appointment_payments"],
            unmatched,
            truth["revenue_total"] + truth["appointment_payments"],
        )
    ]
    assert unmatched > 0 and truth["revenue_total"] == Decimal("5856"), "the seed's order revenue is unchanged"
    served = {a.id: a for a in synced_env.account.iter_appointments()}
    assert any(a.canceled and Decimal(a.amount_paid) > 0 for a in served.values()), "paid, then canceled"
    by_code = synced_env.query(
        "select appointment_id, price, amount_paid from marts.appointments where certificate_product is not null"
    )
    assert by_code and all(paid < price for _, price, paid in by_code), "a package's share is never paid twice"


def test_codes_addons_classes_and_who_booked_equal_the_sandbox_value_by_value(synced_env: Env) -> None:
    """Each appointment's code (and the package it is of), add-ons, class, location and who booked it, the add-on
    bridge, and each certificate's order, uses and value left and the appointments booked with it."""
    truth = synced_env.account.ground_truth()
    served = {a.id: a for a in synced_env.account.iter_appointments()}
    products = {code: product for code, (product, *_) in truth["certificates"].items()}
    rows = synced_env.query(
        """select appointment_id, certificate_code, certificate_product, addon_names, addon_price, class_id,
                  location, scheduled_by from marts.appointments"""
    )
    assert {row[0]: row[1:] for row in rows} == {
        key: (
            a.certificate,
            products.get(a.certificate),
            ", ".join(ADDONS[i].name for i in sorted(a.addon_ids)) or None,
            sum(Decimal(ADDONS[i].price) for i in a.addon_ids) if a.addon_ids else None,
            a.class_id,
            CALENDARS[a.calendar_id].location,
            a.scheduled_by,
        )
        for key, a in served.items()
    }
    assert {row[1] is None for row in rows} == {True, False} and {row[2] is None for row in rows} == {True, False}
    bridge = synced_env.query("select appointment_id, addon_id, addon_name, addon_price from marts.appointment_addons")
    assert sorted(bridge) == sorted(
        (a.id, i, ADDONS[i].name, Decimal(ADDONS[i].price)) for a in served.values() for i in a.addon_ids
    )
    certificates = synced_env.query(
        """select certificate_code, product, order_id, remaining_uses, remaining_value, appointments_booked
           from marts.certificates"""
    )
    assert {code: rest for code, *rest in certificates} == {
        code: [product, order_id, sum(uses.values()) if uses else None, value, len(booked)]
        for code, (product, order_id, uses, value, booked) in truth["certificates"].items()
    }
    assert sum(row[-1] for row in certificates) > 10, "packages are used"
