//! 15 `seller-dashboard`: the seller of `test-shop-001` reads its dashboard — overview, sales
//! series, top products, customers, categories, traffic — and exports a CSV sales report.
//!
//! Decisions:
//! - Every call passes `shopId=test-shop-001`, as in the seed.
//! - The seed's step 10 fetched `/analytics/export` without the `/api` prefix and so could
//!   never pass; here it calls `/api/analytics/export` and checks the answer is CSV (content
//!   type, the header line, one row per week of the period).
//! - Checks are on shapes and internal consistency (numbers are numbers, the 7-day series has
//!   7 rows, top-N lists respect N, the average order value matches revenue / orders within
//!   one response), never on amounts: parallel workflows sell from this shop all the time.

use workflow_harness::prelude::*;

use crate::checks::{expect_numbers, expect_strings};
use crate::common::*;

workflow! {
    id: "seller-dashboard",
    name: "Seller Dashboard & Analytics",
    tags: ["seller", "analytics"],
    steps: 12,
    run: seller_dashboard,
}

/// The overview fields the seed's service declares, all numbers.
const OVERVIEW_FIELDS: [&str; 8] = [
    "totalRevenue",
    "totalOrders",
    "totalProducts",
    "totalCustomers",
    "averageOrderValue",
    "conversionRate",
    "revenueGrowth",
    "ordersGrowth",
];

async fn seller_dashboard(cx: &mut Ctx) -> StepResult {
    as_seeded(cx, SELLER_ID)?;
    let analytics = format!("/api/analytics?shopId={TEST_SHOP_ID}");
    let of_shop = |what: &str| format!("/api/analytics/{what}?shopId={TEST_SHOP_ID}");

    cx.step("Navigate to Seller Dashboard", async |cx| {
        let shop = cx.get_value(&format!("/api/shops/{TEST_SHOP_ID}")).await?;
        Ok(expect_json!(shop, { "id": TEST_SHOP_ID, "ownerId": SELLER_ID })?)
    })
    .await?;

    cx.step("View Dashboard Overview", async |cx| {
        let overview = cx.get_value(&analytics).await?;
        expect_numbers(&overview, &OVERVIEW_FIELDS)?;
        ensure!(
            overview.f64_at("totalProducts")? >= 1.0,
            "{TEST_SHOP_ID} should have products: {}",
            short(&overview)
        );
        Ok(())
    })
    .await?;

    cx.step("Check Revenue Metrics", async |cx| {
        let overview = cx.get_value(&analytics).await?;
        let revenue = overview.f64_at("totalRevenue")?;
        let rate = overview.f64_at("conversionRate")?;
        ensure!(revenue >= 0.0, "negative revenue: {revenue}");
        ensure!(
            (0.0..=100.0).contains(&rate),
            "conversion rate out of range: {rate}"
        );
        Ok(())
    })
    .await?;

    cx.step("View Sales Data (7-Day)", async |cx| {
        let rows = sales(cx, "day").await?;
        ensure!(rows.len() == 7, "expected 7 daily rows, got {}", rows.len());
        Ok(())
    })
    .await?;

    cx.step("Check Top Products", async |cx| {
        let top = cx
            .get_value(&format!("{}&limit=5", of_shop("top-products")))
            .await?;
        check_top_products(&top, 5)
    })
    .await?;

    cx.step("View Customer Insights", async |cx| {
        cx.get_value(&of_shop("customers")).await?.object_at("")?;
        Ok(())
    })
    .await?;

    cx.step("Check Category Performance", async |cx| {
        let categories = cx.get_value(&of_shop("categories")).await?;
        let categories = categories.array_at("")?;
        for row in categories {
            expect_strings(row, &["categoryId", "categoryName"])?;
            expect_numbers(row, &["revenue", "orders", "products"])?;
        }
        ensure!(
            !categories.is_empty(),
            "{TEST_SHOP_ID} sells in no category"
        );
        Ok(())
    })
    .await?;

    cx.step("View Traffic Analytics", async |cx| {
        cx.get_value(&of_shop("traffic")).await?.object_at("")?;
        Ok(())
    })
    .await?;

    cx.step("Check Conversion Rates", async |cx| {
        let overview = cx.get_value(&analytics).await?;
        let rate = overview.f64_at("conversionRate")?;
        let average = overview.f64_at("averageOrderValue")?;
        let orders = overview.f64_at("totalOrders")?;
        let revenue = overview.f64_at("totalRevenue")?;
        ensure!((0.0..=100.0).contains(&rate), "conversion rate {rate}");
        if orders > 0.0 {
            ensure!(
                (average - revenue / orders).abs() < 0.01,
                "average order value {average} is not revenue {revenue} / orders {orders}"
            );
        } else {
            ensure!(average == 0.0, "no orders but an average of {average}");
        }
        Ok(())
    })
    .await?;

    cx.step("Export Sales Report (CSV)", async |cx| {
        let path = format!("{}&period=week&format=csv", of_shop("export"));
        let response = cx.get(&path).await?.expect_success()?;
        let content_type = response.headers().get("content-type");
        let content_type = content_type
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        ensure!(
            content_type.starts_with("text/csv"),
            "expected a CSV content type, got {content_type:?}"
        );
        let text = response.text();
        let mut lines = text.lines();
        let header = lines.next().unwrap_or_default();
        ensure!(
            header == "date,revenue,orders,customers",
            "unexpected CSV header {header:?}"
        );
        let rows: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
        ensure!(
            !rows.is_empty() && rows.iter().all(|r| r.split(',').count() == 4),
            "expected rows of 4 columns: {text:?}"
        );
        Ok(())
    })
    .await?;

    cx.step("View Analytics for Different Periods", async |cx| {
        for period in ["day", "week", "month"] {
            let rows = sales(cx, period).await?;
            ensure!(!rows.is_empty(), "no {period} rows");
        }
        Ok(())
    })
    .await?;

    cx.step("Generate Summary Report", async |cx| {
        let overview = cx.get_value(&analytics).await?;
        let top = cx
            .get_value(&format!("{}&limit=3", of_shop("top-products")))
            .await?;
        check_top_products(&top, 3)?;
        expect_numbers(&overview, &OVERVIEW_FIELDS)
    })
    .await
}

/// `GET /api/analytics/sales` for `period`, checking every row's fields.
async fn sales(cx: &Ctx, period: &str) -> StepResult<Vec<Value>> {
    let rows = cx
        .get_json::<Vec<Value>>(&format!(
            "/api/analytics/sales?shopId={TEST_SHOP_ID}&period={period}"
        ))
        .await?;
    for row in &rows {
        row.str_at("date")?;
        expect_numbers(row, &["revenue", "orders", "customers"])?;
    }
    Ok(rows)
}

/// At most `limit` rows with the top-product fields, best revenue first.
fn check_top_products(top: &Value, limit: usize) -> StepResult {
    let top = top.array_at("")?;
    ensure!(
        !top.is_empty(),
        "no top products: the shop's seeded orders sell some"
    );
    ensure!(
        top.len() <= limit,
        "asked for {limit} top products, got {}",
        top.len()
    );
    for row in top {
        expect_strings(row, &["productId", "productName"])?;
        expect_numbers(row, &["sales", "views"])?;
    }
    let revenues: Vec<f64> = top
        .iter()
        .map(|r| r.f64_at("revenue"))
        .collect::<Result<_, _>>()?;
    ensure!(
        revenues.windows(2).all(|w| w[0] >= w[1]),
        "top products are not sorted by revenue: {revenues:?}"
    );
    Ok(())
}
