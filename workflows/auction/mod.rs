//! Workflows of the `auction` area.
//!
//! The three bidder workflows (02, 07, 14) run at the same time as each other (and as the
//! seller workflows that create live auctions), so they may pick the same auction. They never
//! bid a price computed earlier: [`bid_over_current`] reads the auction's current bid just
//! before bidding and, when another bidder got in between (the server refuses a bid below
//! current + increment with a 400), reads it again and retries. After bidding they only check
//! what another bidder cannot undo: the bid exists, the current bid is at least ours. They
//! also prefer auctions that have been live for a while ([`established_first`]).

mod advanced_auction;
mod auction_bidding;
mod bidding_history;

use workflow_harness::prelude::*;

/// How often a bid is retried after being overtaken by a concurrent bidder.
const BID_ATTEMPTS: usize = 6;

/// `GET /api/auctions/{id}`.
pub(crate) async fn get_auction(cx: &Ctx, auction_id: &str) -> StepResult<Value> {
    Ok(cx.get_value(&format!("/api/auctions/{auction_id}")).await?)
}

/// The price the next bid is measured against: the current bid, or the starting bid when the
/// auction has none yet (the seed's `currentBid || startingBid`).
pub(crate) fn current_price(auction: &Value) -> StepResult<f64> {
    let current = auction.f64_at("currentBid").unwrap_or(0.0);
    if current > 0.0 {
        Ok(current)
    } else {
        Ok(auction.f64_at("startingBid")?)
    }
}

/// A bid placed by [`bid_over_current`]: the server's Bid and the amount bid.
#[derive(Debug, Clone)]
pub(crate) struct PlacedBid {
    pub bid: Value,
    pub amount: f64,
}

impl PlacedBid {
    pub(crate) fn id(&self) -> StepResult<String> {
        Ok(self.bid.id()?)
    }

    /// Fails unless the bid was recorded as an auto-bid (`true`) or a manual one (`false`).
    pub(crate) fn expect_auto(&self, auto: bool) -> StepResult {
        Ok(expect_json!(self.bid, { "isAutoBid": auto })?)
    }
}

/// Bids `over` above the auction's current price, read just before bidding.
///
/// `auto_max_over`: when set, the bid is an auto-bid (`isAutoBid: true`) with
/// `maxAutoBid = amount + auto_max_over`. A 400 after the current bid moved (another bidder
/// won the race) is retried with the new price; any other refusal is an error.
pub(crate) async fn bid_over_current(
    cx: &Ctx,
    auction_id: &str,
    over: f64,
    auto_max_over: Option<f64>,
) -> StepResult<PlacedBid> {
    let path = format!("/api/auctions/{auction_id}/bid");
    let mut last_error = None;
    for _ in 0..BID_ATTEMPTS {
        let auction = get_auction(cx, auction_id).await?;
        let price = current_price(&auction)?;
        let amount = price + over;
        let body = match auto_max_over {
            None => json!({ "bidAmount": amount, "isAutoBid": false }),
            Some(max_over) => json!({
                "bidAmount": amount,
                "isAutoBid": true,
                "maxAutoBid": amount + max_over,
            }),
        };
        let response = cx.post(&path).json(&body).await?;
        if response.status().is_success() {
            let bid = response.json_value()?;
            let recorded = bid.f64_at("bidAmount")?;
            ensure!(
                (recorded - amount).abs() < 0.01,
                "the bid is of {recorded}, not {amount}"
            );
            expect_json!(bid, { "auctionId": auction.str_at("id")? })?;
            return Ok(PlacedBid { bid, amount });
        }
        let status = response.status().as_u16();
        let error = response.expect_success().unwrap_err();
        if status != 400 {
            return Err(error.into());
        }
        // Refused: retry only if someone else raised the price meanwhile.
        let now = current_price(&get_auction(cx, auction_id).await?)?;
        if now <= price {
            return Err(error.into());
        }
        last_error = Some(error);
    }
    Err(anyhow!(
        "outbid by concurrent bidders {BID_ATTEMPTS} times in a row; last refusal: {}",
        last_error.map_or_else(String::new, |e| e.to_string())
    ))
}

/// Whether the bid `bid_id` is in the auction's bid history (`GET /auctions/{id}/bid`, newest
/// first), looking through every page.
pub(crate) async fn bid_in_history(cx: &Ctx, auction_id: &str, bid_id: &str) -> StepResult<bool> {
    for page in 1.. {
        let path = format!("/api/auctions/{auction_id}/bid?page={page}&limit=100");
        let list = cx.get_value(&path).await?;
        if list.data()?.iter().any(|b| b["id"] == bid_id) {
            return Ok(true);
        }
        if list["pagination"]["hasNext"] != true {
            break;
        }
    }
    Ok(false)
}

/// `auctions` with the established ones first (stable otherwise): those live for at least a
/// minute. A concurrent seller workflow (10) puts its own auction live and cancels it in its
/// cleanup moments later, so bidding on a just-started auction can fail for reasons that have
/// nothing to do with bidding; seeded auctions and those of earlier runs stay live.
pub(crate) fn established_first(auctions: &[Value]) -> Vec<Value> {
    let cutoff = (chrono::Utc::now() - chrono::Duration::minutes(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    // Timestamps are `YYYY-MM-DDTHH:MM:SS.mmmZ`, so they compare as strings.
    let (old, new): (Vec<&Value>, Vec<&Value>) = auctions.iter().partition(|a| {
        a["startTime"]
            .as_str()
            .is_some_and(|t| t <= cutoff.as_str())
    });
    old.into_iter().chain(new).cloned().collect()
}

/// Whether the RFC 3339 instant `at` is later than now.
pub(crate) fn in_future(at: &str) -> StepResult<bool> {
    let at = chrono::DateTime::parse_from_rfc3339(at)
        .with_context(|| format!("`{at}` is not an RFC 3339 timestamp"))?;
    Ok(at > chrono::Utc::now())
}

/// The auction `auction_id` now, checked still live and at or above our highest bid `ours`
/// (others may have bid since; being outbid is fine, losing our bid is not).
pub(crate) async fn live_at_or_above(cx: &Ctx, auction_id: &str, ours: f64) -> StepResult<Value> {
    let now = at_or_above(cx, auction_id, ours).await?;
    expect_json!(now, { "status": "live" })?;
    Ok(now)
}

/// The auction `auction_id` now, checked at or above our highest bid `ours`.
pub(crate) async fn at_or_above(cx: &Ctx, auction_id: &str, ours: f64) -> StepResult<Value> {
    let now = get_auction(cx, auction_id).await?;
    let current = now.f64_at("currentBid")?;
    ensure!(
        current >= ours,
        "currentBid {current} is below our bid {ours}"
    );
    Ok(now)
}

/// Steps "Monitor Auction Status", "Winning Notification (Simulated)" and "Process Payment
/// (Simulated)", shared by 02 and 07: the auction is still live at or above `ours`, the
/// notification says whether we lead, the payment has something to pay. Returns the auction's
/// final state and our amount.
pub(crate) async fn monitor_notify_and_pay(
    cx: &mut Ctx,
    auction_id: &str,
    ours: &PlacedBid,
) -> StepResult<(Value, f64)> {
    let final_state = cx
        .step("Monitor Auction Status", async |cx| {
            live_at_or_above(cx, auction_id, ours.amount).await
        })
        .await?;
    let amount = ours.bid.f64_at("bidAmount")?;
    cx.step("Winning Notification (Simulated)", async |_| {
        let leading = final_state.f64_at("currentBid")? <= amount;
        Ok(json!({ "bidAmount": amount, "leading": leading }))
    })
    .await?;
    cx.step("Process Payment (Simulated)", async |_| {
        ensure!(amount > 0.0, "nothing to pay");
        Ok(())
    })
    .await?;
    Ok((final_state, amount))
}
