//! 04 `support-tickets` — "Support Ticket Flow": a fresh customer opens a ticket, an agent
//! takes it and answers, they exchange messages, the ticket is resolved and closed, and the
//! whole conversation is read back.
//!
//! Decisions:
//! - Fresh customer and a freshly registered admin as the agent. The seed sent every call as
//!   one caller, so the agent steps (assign, respond, additional info, resolve, close) could
//!   never pass; here each step acts as the user its name says.
//! - The ticket is created by the workflow, never taken from the seeded ones, so parallel
//!   workflows and repeated runs cannot touch it.
//! - Steps 3 (Assign Ticket to Agent), 9 (Mark Ticket as Resolved) and 10 (Close Ticket) were
//!   "soft": optional here.
//! - Checks added where the seed only logged: the ticket starts `open`, assignment sets the
//!   assignee, the customer sees the agent's reply, resolve/close set the status, and the
//!   history holds our four messages in order, each with its sender.

use crate::common::*;
use workflow_harness::prelude::*;

workflow! {
    id: "support-tickets",
    name: "Support Ticket Flow",
    tags: ["user", "support"],
    steps: 12,
    run: support_tickets,
}

/// Posts a public message on the ticket as `who` and returns its id; acts as `back` after.
async fn post_message(
    cx: &mut Ctx,
    ticket_id: &str,
    who: &Session,
    back: &Session,
    text: &str,
) -> StepResult<String> {
    act_as(cx, who)?;
    let result = cx
        .post_json::<Value, _>(
            &format!("/api/support/tickets/{ticket_id}/messages"),
            &json!({ "message": text, "isInternal": false }),
        )
        .await;
    act_as(cx, back)?;
    let message = result?;
    ensure!(
        message["senderId"] == who.user_id.as_str() && message["message"] == text,
        "the message was not recorded as sent: {}",
        short(&message)
    );
    Ok(message.id()?)
}

/// Sends a request as `who` (an agent step), then acts as `back` again.
async fn as_agent(
    cx: &mut Ctx,
    who: &Session,
    back: &Session,
    call: impl AsyncFnOnce(&mut Ctx) -> StepResult<Value>,
) -> StepResult<Value> {
    act_as(cx, who)?;
    let result = call(cx).await;
    act_as(cx, back)?;
    result
}

async fn support_tickets(cx: &mut Ctx) -> StepResult {
    let customer = as_new_user(cx, "customer").await?;
    let agent = register(cx, "admin").await?;
    let subject = format!("Order not delivered ({})", unique("case-"));

    let ticket: Value = cx
        .step("Create Support Ticket", async |cx| {
            let ticket: Value = cx
                .post_json(
                    "/api/support/tickets",
                    &json!({
                        "category": "order-issue",
                        "priority": "medium",
                        "subject": subject,
                        "description": "My order has not arrived yet although the estimated \
                                        delivery date has passed.",
                        "attachments": [],
                    }),
                )
                .await?;
            ticket.id()?;
            ensure!(
                ticket["status"] == "open",
                "a new ticket is not open: {}",
                short(&ticket)
            );
            Ok(ticket)
        })
        .await?;
    let ticket_id = ticket.id()?;
    let ticket_id = ticket_id.as_str();
    let ticket_path = format!("/api/support/tickets/{ticket_id}");
    let ticket_path = ticket_path.as_str();

    cx.step("View Ticket Details", async |cx| {
        let fetched: Value = cx.get_json(ticket_path).await?;
        ensure!(
            fetched["id"] == ticket_id
                && fetched["subject"] == subject.as_str()
                && fetched["userId"] == customer.user_id.as_str(),
            "not our ticket: {}",
            short(&fetched)
        );
        Ok(())
    })
    .await?;

    cx.optional_step("Assign Ticket to Agent", async |cx| {
        let assigned = as_agent(cx, &agent, &customer, async |cx| {
            Ok(cx
                .post_json(
                    &format!("{ticket_path}/assign"),
                    &json!({ "assignedTo": agent.user_id, "notes": "Taking this one" }),
                )
                .await?)
        })
        .await?;
        ensure!(
            assigned["assignedTo"] == agent.user_id.as_str(),
            "not assigned to the agent: {}",
            short(&assigned)
        );
        Ok(())
    })
    .await;

    let agent_reply = "Sorry for the delay. Your parcel is with the courier and should arrive \
                       within two days.";
    let first: String = cx
        .step("Agent Responds to Ticket", async |cx| {
            post_message(cx, ticket_id, &agent, &customer, agent_reply).await
        })
        .await?;

    cx.step("Customer Views Response", async |cx| {
        let list: Value = cx.get_json(&format!("{ticket_path}/messages")).await?;
        ensure!(
            list.data()?
                .iter()
                .any(|m| m["id"] == first.as_str() && m["message"] == agent_reply),
            "the customer does not see the agent's reply: {}",
            short(&list)
        );
        Ok(())
    })
    .await?;

    let second: String = cx
        .step("Customer Replies", async |cx| {
            let text = "Thanks. Can you share the tracking number?";
            post_message(cx, ticket_id, &customer, &customer, text).await
        })
        .await?;

    let third: String = cx
        .step("Agent Provides Additional Info", async |cx| {
            let text = "The tracking number is TRK123456789 (BlueDart).";
            post_message(cx, ticket_id, &agent, &customer, text).await
        })
        .await?;

    let fourth: String = cx
        .step("Customer Confirms Resolution", async |cx| {
            let text = "Got it, the parcel arrived today. Thank you!";
            post_message(cx, ticket_id, &customer, &customer, text).await
        })
        .await?;

    cx.optional_step("Mark Ticket as Resolved", async |cx| {
        let resolved = as_agent(cx, &agent, &customer, async |cx| {
            Ok(cx
                .patch_json(ticket_path, &json!({ "status": "resolved" }))
                .await?)
        })
        .await?;
        ensure!(
            resolved["status"] == "resolved",
            "not resolved: {}",
            short(&resolved)
        );
        ensure!(
            !resolved["resolvedAt"].is_null(),
            "no resolvedAt: {}",
            short(&resolved)
        );
        Ok(())
    })
    .await;

    cx.optional_step("Close Ticket", async |cx| {
        let closed = as_agent(cx, &agent, &customer, async |cx| {
            Ok(cx
                .post_json(&format!("{ticket_path}/close"), &json!({}))
                .await?)
        })
        .await?;
        ensure!(
            closed["status"] == "closed",
            "not closed: {}",
            short(&closed)
        );
        Ok(())
    })
    .await;

    cx.step("View Full Conversation History", async |cx| {
        let list: Value = cx.get_json(&format!("{ticket_path}/messages")).await?;
        let messages = list.data()?;
        for m in messages {
            m.str_at("message")?;
        }
        let got: Vec<&str> = messages.iter().filter_map(|m| m["id"].as_str()).collect();
        let want = [&first, &second, &third, &fourth].map(String::as_str);
        ensure!(got == want, "conversation {got:?}, expected {want:?}");
        let senders: Vec<&str> = messages
            .iter()
            .filter_map(|m| m["senderId"].as_str())
            .collect();
        let (c, a) = (customer.user_id.as_str(), agent.user_id.as_str());
        ensure!(
            senders == [a, c, a, c],
            "senders {senders:?}, expected agent/customer turns"
        );
        Ok(())
    })
    .await?;

    cx.step("Customer Satisfaction Survey (Simulated)", async |_| {
        Ok(json!({ "ticketId": ticket_id, "rating": 5, "comment": "Quick and helpful" }))
    })
    .await?;
    Ok(())
}
