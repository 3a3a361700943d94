//! AWS API Gateway discovery against a real `moto_server` (PyPI `moto[server]` 5.2.5, which
//! `scripts/test-gateways` installs beside Envoy and names in `VEDETTE_MOTO`): REST and HTTP
//! APIs, stages and custom domains are created through moto's API with boto3 (SigV4-signed),
//! then listed by a discovery source signing with SigV4. moto cannot invoke a stage, so the
//! template points the monitors at a local target; the invoke URLs show in their names.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Kind, Server, Target};
use crate::free_port;

const KEY_ENV: &str = "VEDETTE_DISCOVERY_AWS_TEST_KEY_ID";
const SECRET_ENV: &str = "VEDETTE_DISCOVERY_AWS_TEST_SECRET";
const SECRET: &str = "aws-secret-5d1e0b77c2-never-shown";

/// Creates, through moto at argv[1]: REST API `shop` (`/orders` GET and POST, `/orders/{id}`
/// GET, stages `prod` and `dev`, the domain `api.example.com` mapping `shop` to `prod`), REST
/// API `legacy` tagged `vedette=off` and HTTP API `pets` (`GET /pets`, stage `$default`,
/// domain `pets.example.com`). Prints the ids.
const CREATE: &str = r#"
import boto3, json, sys
kw = dict(endpoint_url=sys.argv[1], region_name="eu-west-1",
          aws_access_key_id="AKIDVEDETTETEST", aws_secret_access_key="moto-setup")
v1 = boto3.client("apigateway", **kw)
shop = v1.create_rest_api(name="shop", tags={"team": "shop"})["id"]
root = [r for r in v1.get_resources(restApiId=shop)["items"] if r["path"] == "/"][0]["id"]
orders = v1.create_resource(restApiId=shop, parentId=root, pathPart="orders")["id"]
one = v1.create_resource(restApiId=shop, parentId=orders, pathPart="{id}")["id"]
for res, method in [(orders, "GET"), (orders, "POST"), (one, "GET")]:
    v1.put_method(restApiId=shop, resourceId=res, httpMethod=method, authorizationType="NONE")
    v1.put_integration(restApiId=shop, resourceId=res, httpMethod=method, type="MOCK")
deployment = v1.create_deployment(restApiId=shop, stageName="prod")["id"]
v1.create_stage(restApiId=shop, stageName="dev", deploymentId=deployment, tags={"env": "dev"})
v1.create_domain_name(domainName="api.example.com",
                      certificateArn="arn:aws:acm:eu-west-1:123456789012:certificate/test")
v1.create_base_path_mapping(domainName="api.example.com", basePath="shop", restApiId=shop, stage="prod")
legacy = v1.create_rest_api(name="legacy", tags={"vedette": "off"})["id"]
lroot = [r for r in v1.get_resources(restApiId=legacy)["items"] if r["path"] == "/"][0]["id"]
v1.put_method(restApiId=legacy, resourceId=lroot, httpMethod="GET", authorizationType="NONE")
v1.put_integration(restApiId=legacy, resourceId=lroot, httpMethod="GET", type="MOCK")
v1.create_deployment(restApiId=legacy, stageName="prod")
v2 = boto3.client("apigatewayv2", **kw)
pets = v2.create_api(Name="pets", ProtocolType="HTTP")["ApiId"]
v2.create_route(ApiId=pets, RouteKey="GET /pets")
v2.create_route(ApiId=pets, RouteKey="GET /pets/{id}")
v2.create_stage(ApiId=pets, StageName="$default")
v2.create_domain_name(DomainName="pets.example.com")
v2.create_api_mapping(DomainName="pets.example.com", ApiId=pets, Stage="$default")
print(json.dumps({"shop": shop, "legacy": legacy, "pets": pets}))
"#;

/// A running moto_server, killed when dropped.
struct Moto {
    child: Child,
    url: String,
    python: PathBuf,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto_binary() -> PathBuf {
    let path = std::env::var("VEDETTE_MOTO").unwrap_or_else(|_| {
        panic!(
            "VEDETTE_MOTO is not set, so the AWS API Gateway discovery test cannot run: run \
             `scripts/test-gateways`, which installs moto[server] from PyPI and sets it"
        )
    });
    let path = PathBuf::from(path);
    assert!(
        path.is_file(),
        "VEDETTE_MOTO names {}, which is not a file",
        path.display()
    );
    path
}

impl Moto {
    fn start() -> Moto {
        let binary = moto_binary();
        let python = binary.with_file_name("python");
        let port = free_port();
        let child = Command::new(&binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let mut moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
            python,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                moto.child.try_wait().expect("moto status").is_none(),
                "moto_server exited at start"
            );
            assert!(
                Instant::now() < deadline,
                "moto_server did not start within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// Runs the boto3 step creating the APIs; their ids.
    fn create(&self) -> Value {
        let out = Command::new(&self.python)
            .args(["-c", CREATE, &self.url])
            .output()
            .expect("run python with boto3");
        assert!(
            out.status.success(),
            "creating the APIs in moto failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("ids")
    }
}

fn set_keys() {
    // SAFETY: every test of this binary that reads these sets the same values first.
    unsafe {
        std::env::set_var(KEY_ENV, "AKIDVEDETTETEST");
        std::env::set_var(SECRET_ENV, SECRET);
    }
}

/// A source listing `url` with SigV4 keys, monitors checking `target`.
fn source(url: &str, target: &str) -> Value {
    json!({"spec": {
        "type": "aws-apigateway",
        "connection": {
            "url": url,
            "timeout": "10s",
            "credentials": {"aws_sigv4": {
                "region": "eu-west-1",
                "access_key_id": {"env": KEY_ENV},
                "secret_access_key": {"env": SECRET_ENV},
            }},
        },
        "interval": "1h",
        "grace_period": "0s",
        "filters": {"exclude": {"stages": ["dev"]}},
        "template": {
            "name": "{scheme}://{host}{path}",
            "url": format!("{target}/ok"),
            "interval": "1h",
            "expected_status": 200,
            "labels": {"api": "{service}"},
        },
    }})
}

async fn names(server: &Server) -> Vec<String> {
    let list = server
        .get("/monitors?selector=discovered-by%3Daws&limit=100")
        .await;
    let mut names: Vec<String> = list.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["spec"]["name"].as_str().expect("name").to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_rest_and_http_apis_become_monitors_at_their_invoke_urls() {
    set_keys();
    let moto = Moto::start();
    let ids = moto.create();
    let (shop, pets) = (ids["shop"].as_str().unwrap(), ids["pets"].as_str().unwrap());
    let target = Target::start().await;
    let server = Server::start(Kind::Sqlite).await;
    let created = server
        .put(
            "/discovery-sources/aws",
            &source(&moto.url, &target.url("")),
        )
        .await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    let ran = server.post("/discovery-sources/aws/run", &json!({})).await;
    assert_eq!(ran.status, 200, "{:#}", ran.body);
    let status = &ran.body["status"];
    assert_eq!(status["state"], "succeeded", "{:#}", ran.body);
    assert!(!ran.body.to_string().contains(SECRET));

    // `/orders/{id}` has a parameter, `dev` is filtered out, `legacy` opted out by its tag.
    let mut wanted = vec![
        format!("https://{pets}.execute-api.eu-west-1.amazonaws.com/pets"),
        format!("https://{shop}.execute-api.eu-west-1.amazonaws.com/prod/orders"),
        "https://api.example.com/shop/orders".to_owned(),
        "https://pets.example.com/pets".to_owned(),
    ];
    wanted.sort();
    assert_eq!(names(&server).await, wanted);
    let list = server
        .get("/monitors?selector=discovered-by%3Daws&limit=100")
        .await;
    let first = &list.body["items"][0];
    assert!(
        ["shop", "pets"].contains(&first["labels"]["api"].as_str().unwrap_or("")),
        "{first:#}"
    );
    let id = first["id"].as_str().expect("id");
    let checked = server
        .post(&format!("/monitors/{id}/run"), &json!({}))
        .await;
    assert_eq!(checked.body["outcome"], "up", "{:#}", checked.body);

    // A second run over the same APIs writes nothing.
    let again = server.post("/discovery-sources/aws/run", &json!({})).await;
    let again = &again.body["status"];
    assert_eq!(
        (&again["created"], &again["updated"], &again["deleted"]),
        (&json!(0), &json!(0), &json!(0)),
        "{again:#}"
    );
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_missing_keys_fail_the_run_without_deleting() {
    set_keys();
    let moto = Moto::start();
    moto.create();
    let target = Target::start().await;
    let server = Server::start(Kind::Sqlite).await;
    let mut spec = source(&moto.url, &target.url(""));
    server.put("/discovery-sources/aws", &spec).await;
    let ran = server.post("/discovery-sources/aws/run", &json!({})).await;
    assert_eq!(ran.body["status"]["state"], "succeeded", "{:#}", ran.body);
    let kept = names(&server).await;
    assert_eq!(kept.len(), 4);

    // Keys from a variable that is not set: the run fails, naming the variable only.
    spec["spec"]["connection"]["credentials"]["aws_sigv4"]["secret_access_key"] =
        json!({"env": "VEDETTE_DISCOVERY_AWS_TEST_UNSET"});
    server.put("/discovery-sources/aws", &spec).await;
    let ran = server.post("/discovery-sources/aws/run", &json!({})).await;
    let status = &ran.body["status"];
    assert_eq!(status["state"], "failed", "{:#}", ran.body);
    assert!(
        status["error"]
            .as_str()
            .expect("error")
            .contains("VEDETTE_DISCOVERY_AWS_TEST_UNSET"),
        "{status:#}"
    );
    assert_eq!(names(&server).await, kept);

    // moto gone: the run fails, the monitors stay.
    spec["spec"]["connection"]["credentials"]["aws_sigv4"]["secret_access_key"] =
        json!({"env": SECRET_ENV});
    server.put("/discovery-sources/aws", &spec).await;
    drop(moto);
    let ran = server.post("/discovery-sources/aws/run", &json!({})).await;
    assert_eq!(ran.body["status"]["state"], "failed", "{:#}", ran.body);
    assert!(!ran.body.to_string().contains(SECRET));
    assert_eq!(names(&server).await, kept);
    server.finish().await;
}
