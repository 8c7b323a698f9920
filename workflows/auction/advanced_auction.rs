//! 07 `advanced-auction` — "Advanced Auction Flow": a fresh bidder browses live, ending-soon
//! and featured auctions, studies the one ending soonest and its seller's other auctions,
//! bids, checks the bid, reads the history, places an auto-bid and watches the auction.
//!
//! Decisions:
//! - The seed aborted at the first failure (style A′); a required step does the same here.
//!   Its 500 ms pause after every step only paced the log, so it is dropped.
//! - Step 1 takes the soonest-ending auction among those live for a minute or more (one a
//!   seller workflow has just put live may be cancelled by it moments later), else the
//!   soonest-ending one.
//! - Fresh bidder (`as_new_user`); the simulated invoice names that bidder, not the seed's
//!   fixed `BIDDER_ID`.
//! - The soonest-ending auction is also what other bidder workflows may bid on at the same
//!   time: bids are placed relative to the current bid read just before bidding (retried when
//!   overtaken, see [`super::bid_over_current`]), and step 8 checks `currentBid ≥ our bid` (as
//!   the seed did) plus that the bid is in the history — never that we still lead.
//! - Steps 3 (View Featured Auctions) and 10 (Place Automatic Bid) were "soft" in the seed,
//!   whose backend lacked them; the marketplace has both, so they are required.
//! - Checks added where the seed only logged: the live list is sorted by `endTime` ascending,
//!   ending-soon auctions end within 24 h, featured ones are featured, the seller's list only
//!   holds that shop's auctions, and our bid appears in the bid history.

use super::{
    at_or_above, bid_in_history, bid_over_current, current_price, established_first, get_auction,
    monitor_notify_and_pay,
};
use crate::common::*;
use workflow_harness::prelude::*;

use crate::checks::expect_some_each;

workflow! {
    id: "advanced-auction",
    name: "Advanced Auction Flow",
    tags: ["auction", "bidding"],
    steps: 15,
    run: advanced_auction,
}

async fn advanced_auction(cx: &mut Ctx) -> StepResult {
    let bidder = as_new_user(cx, "bidder").await?;

    let auction_id = cx
        .step("Browse Live Auctions", async |cx| {
            let path = "/api/auctions?status=live&limit=20&sortBy=endTime&sortOrder=asc";
            let page = cx.get_value(path).await?;
            let ends: Vec<&str> = page
                .data()?
                .iter()
                .map(|a| a.str_at("endTime"))
                .collect::<Result<_, _>>()?;
            ensure!(
                ends.windows(2).all(|w| w[0] <= w[1]),
                "live auctions are not sorted by endTime ascending: {ends:?}"
            );
            let live = established_first(page.data()?);
            Ok(live.first().context("no live auctions")?.id()?)
        })
        .await?;
    let auction_id = auction_id.as_str();

    cx.step("Browse Ending Soon Auctions", async |cx| {
        let page = cx
            .get_value("/api/auctions?status=live&endingSoon=true&limit=10")
            .await?;
        expect_some_each(page.data()?, &json!({ "status": "live" }))?;
        let limit = iso_in_days(1);
        for a in page.data()? {
            // Both are `YYYY-MM-DDTHH:MM:SS.mmmZ`, so they compare as strings.
            let end = a.str_at("endTime")?;
            ensure!(
                end <= limit.as_str(),
                "auction {} ends after 24 h ({end})",
                a["id"]
            );
        }
        Ok(())
    })
    .await?;

    cx.step("View Featured Auctions", async |cx| {
        let list: Vec<Value> = cx.get_json("/api/auctions/featured").await?;
        expect_some_each(&list, &json!({ "isFeatured": true }))?;
        Ok(list.len())
    })
    .await?;

    let auction = cx
        .step("View Auction Details", async |cx| {
            let auction = get_auction(cx, auction_id).await?;
            expect_json!(auction, { "status": "live" })?;
            Ok(auction)
        })
        .await?;
    let shop_id = auction.str_at("shopId")?;

    cx.step("View Seller's Other Auctions", async |cx| {
        let path = format!("/api/auctions?shopId={shop_id}&status=live&limit=5");
        let page = cx.get_value(&path).await?;
        expect_some_each(page.data()?, &json!({ "shopId": shop_id }))
    })
    .await?;

    cx.step("Review Auction Rules", async |_| {
        let price = current_price(&auction)?;
        let reserve = auction.f64_at("reservePrice").ok();
        let reserve_met = reserve.is_none_or(|r| price >= r);
        Ok(json!({ "minimumBid": price + MIN_BID_INCREMENT, "reserveMet": reserve_met }))
    })
    .await?;

    let first_bid = cx
        .step("Place Initial Bid", async |cx| {
            let bid = bid_over_current(cx, auction_id, MIN_BID_INCREMENT, None).await?;
            bid.id()?;
            bid.expect_auto(false)?;
            Ok(bid)
        })
        .await?;

    cx.step("Verify Bid Placed", async |cx| {
        at_or_above(cx, auction_id, first_bid.amount).await
    })
    .await?;

    cx.step("View Bid History", async |cx| {
        let path = format!("/api/auctions/{auction_id}/bid?page=1&limit=10");
        cx.get_value(&path).await?.data()?;
        let id = first_bid.id()?;
        ensure!(
            bid_in_history(cx, auction_id, &id).await?,
            "our bid {id} is missing from the bid history"
        );
        Ok(())
    })
    .await?;

    let auto_bid = cx
        .step("Place Automatic Bid", async |cx| {
            // The seed: bidAmount minBid + 100, maxAutoBid minBid + 500.
            let bid = bid_over_current(cx, auction_id, MIN_BID_INCREMENT, Some(400.0)).await?;
            bid.expect_auto(true)?;
            Ok(bid)
        })
        .await?;

    let (final_state, amount) = monitor_notify_and_pay(cx, auction_id, &auto_bid).await?;

    cx.step("Generate Invoice (Simulated)", async |_| {
        Ok(json!({
            "auctionId": auction_id,
            "auctionName": final_state.str_at("name")?,
            "buyerId": bidder.user_id,
            "amount": amount,
        }))
    })
    .await?;
    Ok(())
}
