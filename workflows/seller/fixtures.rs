//! Test data the seller and admin workflows build for themselves through the API.
//!
//! The seed's 03, 16 and 20 picked "the first pending order" or "the first requested returns"
//! from whatever the database held. With 20 workflows running at once, and the suite running
//! many times against one marketplace, those would be consumed by another workflow or an
//! earlier run. So each of these workflows makes its own: a freshly registered customer orders
//! products of `test-shop-001` (`POST /api/orders`), the order is delivered by the shop's
//! seller or an admin, and the customer files returns for its lines (`POST /api/returns`).
//! Only the shop's published products with stock to spare are bought (for a product with
//! variants, its best-stocked variant), so parallel buyers cannot make the order fail and
//! repeated runs do not run out: the best-stocked products are picked each time.

use workflow_harness::prelude::*;

use crate::common::*;

/// Units a product must keep beyond this order's, so that other workflows buying the same
/// product at the same moment cannot make the order fail for lack of stock.
const STOCK_MARGIN: usize = 10;

/// A return the customer files for one line of its order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReturnSpec {
    /// A `ReturnReason` wire name (`defective`, `damaged`, `wrong-item`, …).
    pub reason: &'static str,
    /// The customer's explanation.
    pub description: &'static str,
    /// Photo URLs the customer attaches as evidence.
    pub media: &'static [&'static str],
}

/// A delivered order of a fresh customer, with the returns it filed (one per line, in the
/// order of the specs).
#[derive(Debug, Clone)]
pub(crate) struct ReturnedOrder {
    /// The customer who ordered and filed the returns.
    pub customer: Session,
    /// The order as delivered.
    pub order: Value,
    /// The returns as created (`status` `requested`).
    pub returns: Vec<Value>,
}

/// What one order line buys: a product and, when it has variants, its best-stocked variant.
struct Unit {
    product_id: String,
    variant: Option<String>,
    stock: f64,
}

/// The purchasable unit of a listed product: for a product with variants, the variant with
/// the most stock (capped by the product's own stock).
fn unit_of(product: &Value) -> StepResult<Unit> {
    let stock = product.f64_at("stockCount")?;
    let best = product["variants"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| {
            let name = v["name"].as_str()?.to_owned();
            Some((name, v["stock"].as_f64().unwrap_or(stock).min(stock)))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1));
    let (variant, stock) = match best {
        Some((name, stock)) => (Some(name), stock),
        None => (None, stock),
    };
    Ok(Unit {
        product_id: product.id()?,
        variant,
        stock,
    })
}

/// Purchasable units of [`TEST_SHOP_ID`]'s published products with at least `units` units
/// to spare, the best stocked first.
async fn stocked_units(cx: &Ctx, units: usize) -> StepResult<Vec<Unit>> {
    let list: Value = cx
        .get_json(&format!(
            "/api/products?shopId={TEST_SHOP_ID}&status=published&limit=100"
        ))
        .await?;
    let wanted = (units + STOCK_MARGIN) as f64;
    let mut found = Vec::new();
    for product in list.data()? {
        if product.f64_at("price").is_ok_and(|n| n > 0.0) {
            let unit = unit_of(product)?;
            if unit.stock >= wanted {
                found.push(unit);
            }
        }
    }
    found.sort_by(|a, b| b.stock.total_cmp(&a.stock));
    ensure!(
        !found.is_empty(),
        "{TEST_SHOP_ID} has no published product with {wanted} units in stock"
    );
    Ok(found)
}

/// The current user orders `lines` lines of one unit each from [`TEST_SHOP_ID`] (distinct
/// products while there are enough) and checks the new order.
async fn order_from_test_shop(cx: &Ctx, lines: usize) -> StepResult<Value> {
    let units = stocked_units(cx, lines).await?;
    let items: Vec<Value> = units
        .iter()
        .cycle()
        .take(lines)
        .map(|u| json!({ "productId": u.product_id, "quantity": 1, "variant": u.variant }))
        .collect();
    let order: Value = cx
        .post_json(
            "/api/orders",
            &json!({
                "items": items,
                "shippingAddress": shipping_address(),
                "billingAddress": shipping_address(),
                "paymentMethod": "cod",
                "customerNotes": format!("Placed by workflow {}", cx.workflow_id()),
            }),
        )
        .await?;
    ensure!(
        order.str_at("status")? == "pending",
        "a new order should be pending: {}",
        short(&order)
    );
    let got = order.array_at("items")?;
    ensure!(
        got.len() == lines && got.iter().all(|i| i["shopId"] == TEST_SHOP_ID),
        "expected {lines} lines of {TEST_SHOP_ID}: {}",
        short(&order)
    );
    Ok(order)
}

/// A freshly registered customer orders `lines` lines from [`TEST_SHOP_ID`]; the workflow
/// then acts as `resume` again (also when ordering failed).
pub(crate) async fn customer_order(
    cx: &mut Ctx,
    lines: usize,
    resume: &Session,
) -> StepResult<(Session, Value)> {
    let customer = register(cx, "customer").await?;
    act_as(cx, &customer)?;
    let order = order_from_test_shop(cx, lines).await;
    act_as(cx, resume)?;
    Ok((customer, order?))
}

/// Moves an order through `confirmed → processing → shipped → delivered` as the current user
/// (the shop's seller or an admin) and returns it as delivered.
pub(crate) async fn deliver(cx: &Ctx, order_id: &str) -> StepResult<Value> {
    let mut order = Value::Null;
    for status in ["confirmed", "processing", "shipped", "delivered"] {
        order = cx
            .patch_json(
                &format!("/api/orders/{order_id}"),
                &json!({ "status": status, "notes": "Test fixture" }),
            )
            .await?;
        ensure!(
            order.str_at("status")? == status,
            "order {order_id} should be {status}: {}",
            short(&order)
        );
    }
    Ok(order)
}

/// The current user (the order's customer) files a return for line `line` of `order`.
pub(crate) async fn file_return(
    cx: &Ctx,
    order: &Value,
    line: usize,
    spec: &ReturnSpec,
) -> StepResult<Value> {
    let item = order
        .array_at("items")?
        .get(line)
        .with_context(|| format!("the order has no line {line}"))?;
    let ret: Value = cx
        .post_json(
            "/api/returns",
            &json!({
                "orderId": order.id()?,
                "orderItemId": item.id()?,
                "reason": spec.reason,
                "description": spec.description,
                "media": spec.media,
            }),
        )
        .await?;
    ensure!(
        ret.str_at("status")? == "requested"
            && ret.str_at("shopId")? == TEST_SHOP_ID
            && ret.str_at("orderId")? == order.id()?,
        "a new return of {TEST_SHOP_ID} should be requested: {}",
        short(&ret)
    );
    Ok(ret)
}

/// A fresh customer orders one line per spec from [`TEST_SHOP_ID`], `manager` (the shop's
/// seller or an admin) delivers the order, and the customer files one return per line. The
/// workflow acts as `manager` afterwards (also on failure).
pub(crate) async fn returned_order(
    cx: &mut Ctx,
    manager: &Session,
    specs: &[ReturnSpec],
) -> StepResult<ReturnedOrder> {
    let (customer, order) = customer_order(cx, specs.len(), manager).await?;
    let order = deliver(cx, &order.id()?).await?;
    act_as(cx, &customer)?;
    let mut returns = Vec::new();
    let mut failure = None;
    for (line, spec) in specs.iter().enumerate() {
        match file_return(cx, &order, line, spec).await {
            Ok(ret) => returns.push(ret),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    act_as(cx, manager)?;
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(ReturnedOrder {
        customer,
        order,
        returns,
    })
}

/// `GET path` (the returns statistics), checked to hold every field of `fields` as a number and
/// to count at least `own` returns (the ones this run filed).
pub(crate) async fn return_stats(
    cx: &Ctx,
    path: &str,
    fields: &[&str],
    own: usize,
) -> StepResult<Value> {
    let stats: Value = cx.get_json(path).await?;
    for field in fields {
        stats.f64_at(field)?;
    }
    ensure!(
        stats.f64_at("total")? >= own as f64,
        "this run's returns are not counted: {}",
        short(&stats)
    );
    Ok(stats)
}
