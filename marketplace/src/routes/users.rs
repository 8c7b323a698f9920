//! Registration, profile and addresses.

use super::prelude::*;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/auth/register", post(register))
        .route("/api/auth/me", get(profile))
        .route("/api/user/profile", get(profile).patch(update_profile))
        .route("/api/user/verify-email", post(verify_email))
        .route("/api/user/verify-mobile", post(verify_mobile))
        .route(
            "/api/user/addresses",
            get(list_addresses).post(create_address),
        )
        .route(
            "/api/user/addresses/{id}",
            get(get_address)
                .patch(update_address)
                .delete(delete_address),
        )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RegisterBody {
    role: Option<Role>,
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
}

async fn register(State(st): State<Shared>, JsonBody(b): JsonBody<RegisterBody>) -> ApiResult {
    let role = b.role.unwrap_or(Role::Customer);
    let name = validate::optional("name", b.name.as_ref(), 100)?;
    let email = present(b.email.as_deref(), |e| validate::email("email", e))?;
    let phone = present(b.phone.as_deref(), |p| validate::phone("phone", p))?;
    let mut s = st.lock();
    let id = s.next_id("user");
    let email = email.unwrap_or_else(|| format!("{id}@example.test"));
    if s.users.iter().any(|u| u.email.eq_ignore_ascii_case(&email)) {
        return Err(conflict(format!("email: '{email}' is already registered")));
    }
    let token = format!("tok-{id}-{:016x}", s.rng.next_u64());
    let user = User {
        id: id.clone(),
        email,
        name: name.unwrap_or_else(|| format!("{} {id}", wire_name(role))),
        role,
        phone,
        avatar: None,
        email_verified: false,
        phone_verified: false,
        created_at: Ts::now(),
    };
    s.users.push(user.clone());
    s.tokens.insert(token.clone(), id);
    created(json!({ "token": token, "user": user }))
}

async fn profile(Auth(u): Auth) -> ApiResult {
    ok(json!({ "user": u }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProfileBody {
    name: Option<String>,
    phone: Option<String>,
    avatar: Option<String>,
}

async fn update_profile(
    State(st): State<Shared>,
    Auth(u): Auth,
    JsonBody(b): JsonBody<ProfileBody>,
) -> ApiResult {
    let name = present(b.name.as_deref(), |n| validate::text("name", n, 100))?;
    let phone = present(b.phone.as_deref(), |p| validate::phone("phone", p))?;
    let avatar = present(b.avatar.as_deref(), |a| validate::text("avatar", a, 2000))?;
    let mut s = st.lock();
    let user = lookup_mut(&mut s.users, &u.id, "user")?;
    set(&mut user.name, name);
    if let Some(p) = phone {
        if user.phone.as_deref() != Some(p.as_str()) {
            user.phone_verified = false;
        }
        user.phone = Some(p);
    }
    set_some(&mut user.avatar, avatar);
    ok(json!({ "user": user, "message": "profile updated" }))
}

async fn verify_email(Auth(u): Auth, JsonBody(_): JsonBody<Empty>) -> ApiResult {
    ok(json!({ "message": format!("verification code sent to {}", u.email) }))
}

async fn verify_mobile(Auth(u): Auth, JsonBody(_): JsonBody<Empty>) -> ApiResult {
    match u.phone {
        Some(p) => ok(json!({ "message": format!("verification code sent to {p}") })),
        None => Err(bad("phone", "add a phone number to the profile first")),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddressBody {
    name: Option<String>,
    phone: Option<String>,
    line1: Option<String>,
    line2: Option<String>,
    city: Option<String>,
    state: Option<String>,
    pincode: Option<String>,
    country: Option<String>,
    is_default: Option<bool>,
}

fn pincode(v: &str) -> Result<String, ApiError> {
    let p = validate::text("pincode", v, 12)?;
    if !p
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
    {
        return Err(bad("pincode", "must be a postal code such as 400001"));
    }
    Ok(p)
}

async fn list_addresses(State(st): State<Shared>, Auth(u): Auth) -> ApiResult {
    let s = st.lock();
    let list: Vec<&Address> = s.addresses.iter().filter(|a| a.user_id == u.id).collect();
    ok(json!({ "addresses": list }))
}

async fn create_address(
    State(st): State<Shared>,
    Auth(u): Auth,
    JsonBody(b): JsonBody<AddressBody>,
) -> ApiResult {
    let name = validate::required("name", b.name.as_ref(), 100)?;
    let line1 = validate::required("line1", b.line1.as_ref(), 200)?;
    let city = validate::required("city", b.city.as_ref(), 100)?;
    let state = validate::required("state", b.state.as_ref(), 100)?;
    let pin = pincode(&validate::required("pincode", b.pincode.as_ref(), 12)?)?;
    let country = validate::required("country", b.country.as_ref(), 100)?;
    let line2 = validate::optional("line2", b.line2.as_ref(), 200)?.unwrap_or_default();
    let phone = match b.phone.as_deref() {
        Some(p) => validate::phone("phone", p)?,
        None => String::new(),
    };
    let mut s = st.lock();
    let first = !s.addresses.iter().any(|a| a.user_id == u.id);
    let is_default = b.is_default.unwrap_or(false) || first;
    if is_default {
        clear_default(&mut s, &u.id);
    }
    let now = Ts::now();
    let a = Address {
        id: s.next_id("addr"),
        user_id: u.id.clone(),
        name,
        phone,
        line1,
        line2,
        city,
        state,
        pincode: pin,
        country,
        is_default,
        created_at: now,
        updated_at: now,
    };
    s.addresses.push(a.clone());
    created(a)
}

fn clear_default(s: &mut Store, user_id: &str) {
    for a in s.addresses.iter_mut().filter(|a| a.user_id == user_id) {
        a.is_default = false;
    }
}

fn own_address<'a>(s: &'a mut Store, user: &User, id: &str) -> Result<&'a mut Address, ApiError> {
    let a = lookup_mut(&mut s.addresses, id, "address")?;
    if a.user_id != user.id {
        // Someone else's address is reported as unknown rather than forbidden.
        return Err(not_found("address", id));
    }
    Ok(a)
}

async fn get_address(State(st): State<Shared>, Auth(u): Auth, Path(id): Path<String>) -> ApiResult {
    let mut s = st.lock();
    ok(own_address(&mut s, &u, &id)?.clone())
}

async fn update_address(
    State(st): State<Shared>,
    Auth(u): Auth,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<AddressBody>,
) -> ApiResult {
    let t = |f: &str, v: &Option<String>, max| present(v.as_deref(), |x| validate::text(f, x, max));
    let name = t("name", &b.name, 100)?;
    let line1 = t("line1", &b.line1, 200)?;
    let line2 = b.line2.as_deref().map(|x| x.trim().to_string());
    let city = t("city", &b.city, 100)?;
    let state = t("state", &b.state, 100)?;
    let country = t("country", &b.country, 100)?;
    let pin = present(b.pincode.as_deref(), pincode)?;
    let phone = present(b.phone.as_deref(), |p| validate::phone("phone", p))?;
    let mut s = st.lock();
    own_address(&mut s, &u, &id)?;
    if b.is_default == Some(true) {
        clear_default(&mut s, &u.id);
    }
    let a = own_address(&mut s, &u, &id)?;
    set(&mut a.name, name);
    set(&mut a.line1, line1);
    set(&mut a.line2, line2);
    set(&mut a.city, city);
    set(&mut a.state, state);
    set(&mut a.country, country);
    set(&mut a.phone, phone);
    set(&mut a.pincode, pin);
    patch!(a, b: is_default);
    a.updated_at = Ts::now();
    ok(a.clone())
}

async fn delete_address(
    State(st): State<Shared>,
    Auth(u): Auth,
    Path(id): Path<String>,
) -> ApiResult {
    let mut s = st.lock();
    own_address(&mut s, &u, &id)?;
    s.addresses.retain(|a| a.id != id);
    deleted("address", &id)
}
