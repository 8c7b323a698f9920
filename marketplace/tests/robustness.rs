//! Every POST/PATCH endpoint answers malformed JSON, wrong types, huge and negative numbers
//! with a 4xx JSON `{error}`: never a 5xx, never a dropped connection. Unknown fields are
//! ignored (documented policy), so a valid body plus unknown fields must not be a 5xx either.

mod common;
use common::*;
use serde_json::{Value, json};

fn addr() -> Value {
    json!({"name": "T", "phone": "+919876543210", "line1": "1 St", "line2": "B", "city": "Mumbai", "state": "MH", "pincode": "400001", "country": "India"})
}

/// (method, path, token, valid body, extra nested JSON pointers to mutate)
fn endpoints(
    cart_item: &str,
) -> Vec<(&'static str, String, &'static str, Value, Vec<&'static str>)> {
    let far = "2099-01-01T00:00:00Z";
    vec![
        (
            "POST",
            "/api/auth/register".into(),
            CUSTOMER,
            json!({"role": "customer", "name": "N", "email": "n@example.test", "phone": "+919876543210"}),
            vec![],
        ),
        (
            "PATCH",
            "/api/user/profile".into(),
            CUSTOMER,
            json!({"name": "N", "phone": "+919876543210", "avatar": "a.png"}),
            vec![],
        ),
        (
            "POST",
            "/api/user/verify-email".into(),
            CUSTOMER,
            json!({}),
            vec![],
        ),
        (
            "POST",
            "/api/user/verify-mobile".into(),
            CUSTOMER,
            json!({}),
            vec![],
        ),
        (
            "POST",
            "/api/user/addresses".into(),
            CUSTOMER,
            addr_body(),
            vec![],
        ),
        (
            "PATCH",
            "/api/user/addresses/addr-001".into(),
            CUSTOMER,
            addr_body(),
            vec![],
        ),
        (
            "POST",
            "/api/shops".into(),
            SELLER,
            json!({"name": "S", "slug": "s-x", "description": "d", "email": "s@example.test", "phone": "+919876543210", "address": addr(), "showOnHomepage": true}),
            vec![],
        ),
        (
            "PATCH",
            "/api/shops/test-shop-001".into(),
            SELLER,
            json!({"name": "S", "description": "d", "email": "s@example.test", "phone": "+919876543210", "address": addr(), "logo": "l", "showOnHomepage": true}),
            vec![],
        ),
        (
            "POST",
            "/api/categories".into(),
            ADMIN,
            json!({"name": "C", "slug": "c-x", "description": "d", "parentId": "cat-electronics", "sortOrder": 1, "isFeatured": false, "showOnHomepage": true, "isActive": true, "commissionRate": 10, "icon": "i"}),
            vec![],
        ),
        (
            "PATCH",
            "/api/categories/cat-home".into(),
            ADMIN,
            json!({"name": "C", "parentId": "cat-fashion", "sortOrder": 2, "isFeatured": true, "commissionRate": 12, "metaTitle": "m"}),
            vec![],
        ),
        (
            "POST",
            "/api/products".into(),
            SELLER,
            product_body(),
            vec![
                "/variants/0/price",
                "/variants/0/stock",
                "/specifications/0/name",
                "/dimensions/length",
            ],
        ),
        (
            "PATCH",
            "/api/products/prod-001".into(),
            SELLER,
            product_body(),
            vec!["/variants/0/price", "/variants/0/stock"],
        ),
        (
            "POST",
            "/api/cart".into(),
            CUSTOMER,
            json!({"productId": "prod-005", "quantity": 1, "variant": null}),
            vec![],
        ),
        (
            "PATCH",
            format!("/api/cart/{cart_item}"),
            CUSTOMER,
            json!({"quantity": 2}),
            vec![],
        ),
        (
            "POST",
            "/api/cart/coupon".into(),
            CUSTOMER,
            json!({"code": "TEST10"}),
            vec![],
        ),
        (
            "POST",
            "/api/orders".into(),
            CUSTOMER,
            json!({"items": [{"productId": "prod-005", "quantity": 1, "variant": null}], "shippingAddress": addr(), "billingAddress": addr(), "paymentMethod": "cod", "couponCode": "TEST10", "customerNotes": "n"}),
            vec![
                "/items/0/quantity",
                "/items/0/productId",
                "/shippingAddress/city",
                "/billingAddress/pincode",
            ],
        ),
        (
            "PATCH",
            "/api/orders/ord-001".into(),
            SELLER,
            json!({"status": "confirmed", "notes": "n"}),
            vec![],
        ),
        (
            "POST",
            "/api/orders/ord-002/shipment".into(),
            SELLER,
            json!({"carrier": "BlueDart", "tracking_number": "T-1", "eta": far}),
            vec![],
        ),
        (
            "POST",
            "/api/orders/ord-005/cancel".into(),
            CUSTOMER,
            json!({}),
            vec![],
        ),
        ("POST", "/api/coupons".into(), SELLER, coupon_body(), vec![]),
        (
            "PATCH",
            "/api/coupons/SELLER20".into(),
            SELLER,
            coupon_body(),
            vec![],
        ),
        (
            "POST",
            "/api/coupons/validate".into(),
            CUSTOMER,
            json!({"code": "TEST10", "cartTotal": 1000, "items": [{"productId": "p", "categoryId": "c", "quantity": 2, "price": 500}]}),
            vec!["/items/0/quantity", "/items/0/price"],
        ),
        (
            "POST",
            "/api/auctions".into(),
            SELLER,
            json!({"shopId": "test-shop-001", "name": "A", "slug": "a-x", "description": "d", "startingBid": 100.5, "reservePrice": 200, "startTime": "2098-01-01T00:00:00Z", "endTime": far, "status": "scheduled", "images": ["i"]}),
            vec![],
        ),
        (
            "PATCH",
            "/api/auctions/auc-001".into(),
            SELLER,
            json!({"name": "A", "description": "d", "reservePrice": 10, "isFeatured": true, "featuredPriority": 3, "endTime": far}),
            vec![],
        ),
        (
            "POST",
            "/api/auctions/auc-001/bid".into(),
            BIDDER,
            json!({"bidAmount": 999999, "isAutoBid": true, "maxAutoBid": 9999999}),
            vec![],
        ),
        (
            "POST",
            "/api/auctions/auc-001/watch".into(),
            BIDDER,
            json!({}),
            vec![],
        ),
        (
            "POST",
            "/api/support/tickets".into(),
            CUSTOMER,
            json!({"category": "order-issue", "priority": "medium", "subject": "Subject", "description": "A long description", "attachments": [], "orderId": "ord-001"}),
            vec![],
        ),
        (
            "PATCH",
            "/api/support/tickets/tkt-001".into(),
            ADMIN,
            json!({"status": "in-progress", "priority": "high", "subject": "S", "assignedTo": "a"}),
            vec![],
        ),
        (
            "POST",
            "/api/support/tickets/tkt-001/assign".into(),
            ADMIN,
            json!({"assignedTo": "agent", "notes": "n"}),
            vec![],
        ),
        (
            "POST",
            "/api/support/tickets/tkt-001/close".into(),
            CUSTOMER,
            json!({}),
            vec![],
        ),
        (
            "POST",
            "/api/support/tickets/tkt-001/messages".into(),
            CUSTOMER,
            json!({"message": "m", "attachments": [], "isInternal": false}),
            vec![],
        ),
        (
            "POST",
            "/api/support/tickets/tkt-001/reply".into(),
            CUSTOMER,
            json!({"message": "m"}),
            vec![],
        ),
        (
            "POST",
            "/api/reviews".into(),
            CUSTOMER,
            json!({"productId": "prod-003", "rating": 4, "title": "t", "comment": "c", "media": [], "orderId": "ord-001"}),
            vec![],
        ),
        (
            "PATCH",
            "/api/reviews/rev-001/moderate".into(),
            ADMIN,
            json!({"isApproved": true, "moderationNotes": "n", "isFeatured": false}),
            vec![],
        ),
        (
            "POST",
            "/api/reviews/rev-001/helpful".into(),
            CUSTOMER,
            json!({}),
            vec![],
        ),
        (
            "POST",
            "/api/favorites".into(),
            CUSTOMER,
            json!({"productId": "prod-002"}),
            vec![],
        ),
        (
            "POST",
            "/api/returns".into(),
            CUSTOMER,
            json!({"orderId": "ord-111", "orderItemId": "oi-1", "reason": "damaged", "description": "d", "media": []}),
            vec![],
        ),
        (
            "PATCH",
            "/api/returns/ret-001".into(),
            SELLER,
            json!({"status": "approved", "adminNotes": "n", "sellerNotes": "s", "requiresAdminIntervention": false}),
            vec![],
        ),
        (
            "POST",
            "/api/returns/ret-001/approve".into(),
            SELLER,
            json!({"approved": true, "notes": "n"}),
            vec![],
        ),
        (
            "POST",
            "/api/returns/ret-008/refund".into(),
            ADMIN,
            json!({"refundAmount": 100, "refundMethod": "original_payment_method", "refundTransactionId": "T"}),
            vec![],
        ),
        (
            "POST",
            "/api/returns/ret-003/resolve".into(),
            ADMIN,
            json!({"resolution": "partial_refund", "refundAmount": 750, "notes": "n"}),
            vec![],
        ),
        ("POST", "/api/blog".into(), ADMIN, blog_body(), vec![]),
        (
            "PATCH",
            "/api/blog/blog-001".into(),
            ADMIN,
            blog_body(),
            vec![],
        ),
        (
            "POST",
            "/api/admin/hero-slides".into(),
            ADMIN,
            slide_body(),
            vec![],
        ),
        (
            "PATCH",
            "/api/admin/hero-slides/slide-001".into(),
            ADMIN,
            slide_body(),
            vec![],
        ),
        (
            "POST",
            "/api/admin/hero-slides/reorder".into(),
            ADMIN,
            json!({"slides": [{"id": "slide-001", "order": 2}, {"id": "slide-002", "order": 1}]}),
            vec!["/slides/0/order", "/slides/0/id"],
        ),
    ]
}

fn addr_body() -> Value {
    json!({"name": "Home", "phone": "+919876543210", "line1": "1 St", "line2": "B", "city": "Mumbai", "state": "MH", "pincode": "400001", "country": "India", "isDefault": true})
}

fn product_body() -> Value {
    json!({"shopId": "test-shop-001", "categoryId": "cat-electronics", "name": "P", "slug": "p-x", "description": "d", "price": 999, "originalPrice": 1200,
        "stockCount": 5, "lowStockThreshold": 1, "condition": "new", "countryOfOrigin": "India", "isReturnable": true, "returnWindowDays": 7, "status": "draft",
        "images": ["a"], "tags": ["t"], "variants": [{"name": "V", "price": 10, "stock": 1}], "specifications": [{"name": "n", "value": "v"}],
        "dimensions": {"length": 1}, "warranty": "1y", "isFeatured": true, "showOnHomepage": false, "sku": "S", "brand": "B", "shippingClass": "standard"})
}

fn coupon_body() -> Value {
    json!({"shopId": "test-shop-001", "code": "ROBUST10", "name": "n", "description": "d", "type": "percentage", "discountValue": 10, "maxDiscountAmount": 500, "minPurchaseAmount": 0,
        "minQuantity": 1, "applicability": "all", "applicableCategories": [], "applicableProducts": [], "usageLimit": 10, "usageLimitPerUser": 1,
        "startDate": "2020-01-01T00:00:00Z", "endDate": "2099-01-01T00:00:00Z", "status": "active", "firstOrderOnly": false, "newUsersOnly": false,
        "canCombineWithOtherCoupons": false, "autoApply": false, "isPublic": true, "isFeatured": false})
}

fn blog_body() -> Value {
    json!({"title": "T", "slug": "t-x", "excerpt": "e", "content": "c", "featuredImage": "f", "category": "Technology", "tags": ["a"], "status": "draft", "isFeatured": false, "showOnHomepage": false, "publishedAt": "2030-01-01T00:00:00Z"})
}

fn slide_body() -> Value {
    json!({"title": "T", "subtitle": "s", "description": "d", "image": "i", "mobileImage": "m", "ctaText": "Shop", "ctaLink": "/p", "ctaTarget": "_self", "order": 1, "isActive": false,
        "startDate": "2030-01-01T00:00:00Z", "endDate": "2030-02-01T00:00:00Z", "backgroundColor": "#000", "textColor": "#fff"})
}

#[track_caller]
fn assert_4xx(what: &str, got: &(u16, Value)) {
    assert!(
        (400..500).contains(&got.0),
        "{what}: status {} body {}",
        got.0,
        got.1
    );
    assert!(
        got.1["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{what}: no error JSON in {}",
        got.1
    );
}

#[tokio::test]
async fn every_write_endpoint_refuses_bad_bodies_with_json_4xx() {
    let api = Api::start().await;
    let item = api
        .post("/api/cart", CUSTOMER, json!({"productId": "prod-005"}))
        .await
        .answers(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let malformed = [
        "{",
        "{\"a\":",
        "not json",
        "[1,2",
        "{\"a\":1}}",
        "{\"a\": 1,}",
        "\u{0}",
        "[]",
        "\"text\"",
        "42",
        "null",
        "true",
        "[{\"a\":1}]",
    ];
    let bad_values = [
        json!(-1),
        json!(-1.5),
        json!(1e308),
        serde_json::from_str::<Value>("18446744073709551616").unwrap(),
    ];
    let mut checked = 0;
    for (method, path, token, base, nested) in endpoints(&item) {
        for m in malformed {
            let got = api.raw(method, &path, Some(token), Some(m)).await;
            assert_4xx(&format!("{method} {path} body {m:?}"), &got);
            checked += 1;
        }
        let mut pointers: Vec<String> = base
            .as_object()
            .unwrap()
            .keys()
            .map(|k| format!("/{}", k.replace('~', "~0").replace('/', "~1")))
            .collect();
        pointers.extend(nested.iter().map(|p| p.to_string()));
        for ptr in &pointers {
            for v in &bad_values {
                let mut body = base.clone();
                *body
                    .pointer_mut(ptr)
                    .unwrap_or_else(|| panic!("{path}: no {ptr}")) = v.clone();
                let got = api.call(method, &path, Some(token), Some(body)).await;
                assert_4xx(&format!("{method} {path} with {ptr} = {v}"), &got);
                checked += 1;
            }
        }
    }
    assert!(checked > 1000, "checked {checked}");
    // Unknown fields are ignored: never a 5xx, always JSON.
    for (method, path, token, base, _) in endpoints(&item) {
        let mut body = base.clone();
        body["unknownFieldXyz"] = json!({"nested": [1, 2, 3]});
        let got = api.call(method, &path, Some(token), Some(body)).await;
        assert!(
            got.0 < 500 && (got.1.is_object() || got.1.is_array()),
            "{method} {path} with unknown field: {} {}",
            got.0,
            got.1
        );
    }
}

#[tokio::test]
async fn bad_query_parameters_are_400() {
    let api = Api::start().await;
    for q in [
        "limit=abc",
        "limit=0",
        "page=-1",
        "sortBy=nope",
        "sortOrder=sideways",
        "status=flying",
        "minPrice=-3",
        "isFeatured=maybe",
    ] {
        assert_4xx(q, &api.get(&format!("/api/products?{q}"), None).await);
    }
    assert_4xx(
        "auction status",
        &api.get("/api/auctions?status=active", None).await,
    );
    assert_4xx(
        "returns flag",
        &api.get("/api/returns?requiresAdminIntervention=yes", Some(ADMIN))
            .await,
    );
}

#[tokio::test]
async fn huge_body_is_refused() {
    let api = Api::start().await;
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(3 * 1024 * 1024));
    let got = api
        .raw("POST", "/api/categories", Some(ADMIN), Some(&big))
        .await;
    assert_4xx("3 MiB body", &got);
}

/// Every route with an id in its path, `{x}` standing for the id.
const ID_ROUTES: &[&str] = &[
    "/api/admin/hero-slides/{x}",
    "/api/auctions/{x}",
    "/api/auctions/{x}/bid",
    "/api/auctions/{x}/bids",
    "/api/auctions/{x}/watch",
    "/api/blog/{x}",
    "/api/cart/{x}",
    "/api/categories/{x}",
    "/api/coupons/{x}",
    "/api/favorites/check/{x}",
    "/api/favorites/{x}",
    "/api/orders/{x}",
    "/api/orders/{x}/cancel",
    "/api/orders/{x}/shipment",
    "/api/orders/{x}/track",
    "/api/products/{x}",
    "/api/products/{x}/similar",
    "/api/returns/{x}",
    "/api/returns/{x}/approve",
    "/api/returns/{x}/refund",
    "/api/returns/{x}/resolve",
    "/api/reviews/{x}",
    "/api/reviews/{x}/helpful",
    "/api/reviews/{x}/moderate",
    "/api/shops/{x}",
    "/api/support/tickets/{x}",
    "/api/support/tickets/{x}/assign",
    "/api/support/tickets/{x}/close",
    "/api/support/tickets/{x}/messages",
    "/api/support/tickets/{x}/reply",
    "/api/user/addresses/{x}",
];

/// Sends a request and returns status, content type and the body parsed as JSON (`Null` when
/// it is not JSON).
async fn send(api: &Api, method: &str, path: &str) -> (u16, String, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let response = api
        .client
        .request(method, format!("{}{path}", api.base))
        .bearer_auth(ADMIN)
        .body("{}")
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap_or("?").to_owned())
        .unwrap_or_default();
    let text = response.text().await.unwrap();
    (
        status,
        content_type,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn undecodable_path_ids_answer_json_400_on_every_route() {
    let api = Api::start().await;
    // `%FF` and `%C3%28` decode to invalid UTF-8; `%00` to a NUL byte (valid UTF-8, so it is
    // simply an unknown id).
    for id in ["%FF", "%C3%28", "ok%FFok"] {
        for route in ID_ROUTES {
            let path = route.replace("{x}", id);
            let mut routed = 0;
            for method in ["GET", "POST", "PATCH", "PUT", "DELETE"] {
                let (status, content_type, body) = send(&api, method, &path).await;
                let what = format!("{method} {path}");
                assert_eq!(content_type, "application/json", "{what}: {status} {body}");
                let error = body["error"].as_str().unwrap_or_default();
                match status {
                    405 => assert!(!error.is_empty(), "{what}: {body}"),
                    400 => {
                        assert!(error.starts_with("path: "), "{what}: {body}");
                        assert!(error.contains("UTF-8"), "{what}: {body}");
                        routed += 1;
                    }
                    other => panic!("{what}: status {other} {body}"),
                }
            }
            assert!(routed > 0, "{path}: no method reached the route");
        }
    }
    let (status, _, body) = send(&api, "GET", "/api/products/%00").await;
    assert_eq!(status, 404, "{body}");
}

#[tokio::test]
async fn undecodable_query_parameters_answer_json() {
    let api = Api::start().await;
    for query in [
        "limit=%FF",
        "status=%FF",
        "%FF=1",
        "sortOrder=%C3%28",
        "page=%",
    ] {
        let (status, content_type, body) =
            send(&api, "GET", &format!("/api/products?{query}")).await;
        assert_eq!(content_type, "application/json", "{query}: {status} {body}");
        if status != 200 {
            assert_eq!(status, 400, "{query}: {body}");
            assert!(
                body["error"].as_str().is_some_and(|e| !e.is_empty()),
                "{query}: {body}"
            );
        }
    }
    // A value that decodes to U+FFFD is still checked as a value.
    let (status, _, body) = send(&api, "GET", "/api/products?limit=%FF").await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().starts_with("limit"),
        "{body}"
    );
}
