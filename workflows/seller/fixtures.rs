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
async fn stocked_units(http: &Http, units: usize) -> StepResult<Vec<Unit>> {
    let path = format!("/api/products?shopId={TEST_SHOP_ID}&status=published&limit=100");
    let list = http.get_value(&path).await?;
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

/// A freshly registered customer orders `lines` lines of one unit each from [`TEST_SHOP_ID`]
/// (distinct products while there are enough); the new order is checked to be pending and to
/// hold `lines` lines of that shop.
pub(crate) async fn customer_order(cx: &Ctx, lines: usize) -> StepResult<(Session, Value)> {
    let customer = register(cx, "customer").await?;
    let items: Vec<Value> = stocked_units(cx, lines)
        .await?
        .iter()
        .cycle()
        .take(lines)
        .map(|u| json!({ "productId": u.product_id, "quantity": 1, "variant": u.variant }))
        .collect();
    let body = json!({
        "items": items,
        "shippingAddress": shipping_address(),
        "billingAddress": shipping_address(),
        "paymentMethod": "cod",
        "customerNotes": format!("Placed by workflow {}", cx.workflow_id()),
    });
    let order = cx
        .as_user(&customer)
        .post_value("/api/orders", &body)
        .await?;
    let of_the_shop = vec![json!({ "shopId": TEST_SHOP_ID }); lines];
    expect_json!(order, { "status": "pending", "items": of_the_shop })?;
    Ok((customer, order))
}

/// Moves an order through `confirmed → processing → shipped → delivered` as `manager` (the
/// shop's seller or an admin) and returns it as delivered.
async fn deliver(manager: &Http, order_id: &str) -> StepResult<Value> {
    let mut order = Value::Null;
    for status in ["confirmed", "processing", "shipped", "delivered"] {
        let body = json!({ "status": status, "notes": "Test fixture" });
        order = manager
            .patch_value(&format!("/api/orders/{order_id}"), &body)
            .await?;
        expect_json!(order, { "status": status }).context(format!("order {order_id}"))?;
    }
    Ok(order)
}

/// `customer` (the order's) files a return for line `line` of `order`.
async fn file_return(
    customer: &Http,
    order: &Value,
    line: usize,
    spec: &ReturnSpec,
) -> StepResult<Value> {
    let order_id = order.id()?;
    let body = json!({
        "orderId": order_id,
        "orderItemId": order.str_at(&format!("/items/{line}/id"))?,
        "reason": spec.reason,
        "description": spec.description,
        "media": spec.media,
    });
    let ret = customer.post_value("/api/returns", &body).await?;
    expect_json!(ret, { "status": "requested", "shopId": TEST_SHOP_ID, "orderId": order_id })?;
    Ok(ret)
}

/// A fresh customer orders one line per spec from [`TEST_SHOP_ID`], the workflow's own user
/// (the shop's seller or an admin) delivers the order, and the customer files one return per
/// line.
pub(crate) async fn returned_order(cx: &Ctx, specs: &[ReturnSpec]) -> StepResult<ReturnedOrder> {
    let (customer, order) = customer_order(cx, specs.len()).await?;
    let order = deliver(cx, &order.id()?).await?;
    let as_customer = cx.as_user(&customer);
    let mut returns = Vec::new();
    for (line, spec) in specs.iter().enumerate() {
        returns.push(file_return(&as_customer, &order, line, spec).await?);
    }
    Ok(ReturnedOrder {
        customer,
        order,
        returns,
    })
}

impl ReturnedOrder {
    /// The ids of the returns filed, in the order of the specs.
    pub(crate) fn return_ids(&self) -> StepResult<Vec<String>> {
        Ok(self
            .returns
            .iter()
            .map(JsonExt::id)
            .collect::<Result<_, _>>()?)
    }
}
