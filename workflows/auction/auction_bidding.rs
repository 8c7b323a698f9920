//! 02 `auction-bidding` — "Auction Bidding Flow": a fresh bidder browses live auctions, opens
//! one, bids on it, checks the bid was recorded, raises it and watches the auction.
//!
//! Decisions:
//! - Fresh bidder (`as_new_user`), so its bids are its own.
//! - Step 1 takes the first listed auction that has been live for a minute or more (an
//!   auction a seller workflow has just put live may be cancelled by it moments later), else
//!   the first listed. As in the seed, a run's input (`context`) with `auctions.live` replaces
//!   the list: the first auction given is the one bid on (an input of another shape fails
//!   the step, naming the field).
//! - Step 2 always fetches the auction (the seed skipped the call because list items carry an
//!   `endTime`) and checks it is `live`.
//! - Seed bug fixed: step 5 compared `currentBid` to the bid with exact equality, which races
//!   with the other bidder workflows. It now checks what they cannot undo: the auction's
//!   current bid is at least ours and our bid is in the auction's history.
//! - Bids are placed relative to the auction's current bid read just before bidding (with
//!   retries when a concurrent bidder overtakes us, see [`super::bid_over_current`]), not
//!   relative to the price seen in step 2.
//! - Steps 7 (Place Higher Bid) and 8 (View Bid History) were "soft" in the seed, whose
//!   backend lacked them; the marketplace has both, so they are required.
//! - Minor seed bug fixed: the simulated steps 10–12 read `bid.amount`; they use the Bid's
//!   `bidAmount`.

use super::{
    PlacedBid, at_or_above, bid_in_history, bid_over_current, current_price, established_first,
    get_auction, in_future, monitor_notify_and_pay,
};
use crate::common::*;
use workflow_harness::prelude::*;

workflow! {
    id: "auction-bidding",
    name: "Auction Bidding Flow",
    tags: ["auction", "bidding"],
    steps: 13,
    run: auction_bidding,
}

/// The seed's `context`: `{"auctions": {"live": [auction, …]}}`, each auction at least an `id`.
#[derive(serde::Deserialize)]
struct Input {
    auctions: Option<GivenAuctions>,
}

#[derive(serde::Deserialize)]
struct GivenAuctions {
    live: Option<Vec<Value>>,
}

async fn auction_bidding(cx: &mut Ctx) -> StepResult {
    as_new_user(cx, "bidder").await?;

    let auction_id = cx
        .step("Browse Live Auctions", async |cx| {
            if let Some(given) = cx.input_as::<Input>()?.and_then(|i| i.auctions?.live) {
                let first = given
                    .first()
                    .context("the input's auctions.live is empty")?;
                return Ok(first.id()?);
            }
            let page = cx
                .get_value("/api/auctions?status=live&limit=10&page=1")
                .await?;
            let live = established_first(page.data()?);
            let first = live.first().context("no live auctions")?;
            expect_json!(first, { "status": "live" })?;
            Ok(first.id()?)
        })
        .await?;
    let auction_id = auction_id.as_str();

    let auction = cx
        .step("View Auction Details", async |cx| {
            let auction = get_auction(cx, auction_id).await?;
            expect_json!(auction, { "id": auction_id, "status": "live" })?;
            // The seed's minimum next bid: (currentBid || startingBid) + 100.
            current_price(&auction)?;
            Ok(auction)
        })
        .await?;

    cx.step("Check Bidding Eligibility", async |_| {
        let end = auction.str_at("endTime")?;
        ensure!(in_future(end)?, "the auction ended at {end}");
        Ok(())
    })
    .await?;

    let first_bid = cx
        .step("Place Initial Bid", async |cx| {
            bid_over_current(cx, auction_id, MIN_BID_INCREMENT, None).await
        })
        .await?;
    let first_id = first_bid.id()?;

    cx.step("Verify Bid Recorded", async |cx| {
        let now = at_or_above(cx, auction_id, first_bid.amount).await?;
        ensure!(
            now.f64_at("bidCount")? >= 1.0,
            "bidCount is 0: {}",
            short(&now)
        );
        ensure!(
            bid_in_history(cx, auction_id, &first_id).await?,
            "our bid {first_id} is not in the auction's history"
        );
        Ok(())
    })
    .await?;

    cx.step("Outbid Notification (Simulated)", async |cx| {
        // Whether someone outbid us since is up to the concurrent bidders; only report it.
        let outbid = get_auction(cx, auction_id).await?.f64_at("currentBid")? > first_bid.amount;
        Ok(json!({ "outbid": outbid, "yourBid": first_bid.amount }))
    })
    .await?;

    let higher: PlacedBid = cx
        .step("Place Higher Bid", async |cx| {
            let bid = bid_over_current(cx, auction_id, 2.0 * MIN_BID_INCREMENT, None).await?;
            let (amount, first) = (bid.amount, first_bid.amount);
            ensure!(
                amount > first,
                "the higher bid {amount} is not above the first {first}"
            );
            Ok(bid)
        })
        .await?;

    cx.step("View Bid History", async |cx| {
        cx.get_value(&format!("/api/auctions/{auction_id}/bid"))
            .await?
            .data()?;
        for bid in [&first_bid, &higher] {
            let id = bid.id()?;
            ensure!(
                bid_in_history(cx, auction_id, &id).await?,
                "our bid {id} is missing from the history"
            );
        }
        Ok(())
    })
    .await?;

    let (final_state, amount) = monitor_notify_and_pay(cx, auction_id, &higher).await?;

    cx.step("Confirmation Email (Simulated)", async |_| {
        let name = final_state.str_at("name")?;
        Ok(format!("Your bid of {amount} on {name} is confirmed"))
    })
    .await?;
    Ok(())
}
