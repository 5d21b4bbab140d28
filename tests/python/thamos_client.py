"""thamos, Thoth's client, against the investigator's REST API.

Calls every user-api graph endpoint through thamos' generated client (the one thamos.lib wraps)
and prints one JSON object: what thamos' models made of each answer. A response thamos cannot
read (a missing required field, a wrong type, a status it does not expect) fails the script.

Two answers are read as JSON, unmodelled, because thamos' models are stricter than Thoth's own
server was: /python/package/dependencies (the model refuses a null `extra` or
`environment_marker`, which Thoth's user-api sent for a dependency without extra or marker) and
/python/package/version/metadata (the model wants every importlib_metadata key a full solver
run records; the entry served is the solver document's, and the test documents are abridged).

Usage: thamos_client.py <base URL, e.g. http://127.0.0.1:6066/api/v1>
"""

import json
import sys

from thamos.swagger_client import ApiClient, Configuration, EnvironmentsApi, PythonPackagesApi
from thamos.swagger_client.rest import ApiException

PYPI = "https://pypi.org/simple"
REQUESTS_ON_RHEL = {
    "name": "requests",
    "version": "2.26.0",
    "index": PYPI,
    "os_name": "rhel",
    "os_version": "8",
    "python_version": "3.8",
}


def unmodelled(call, **parameters):
    """The answer of one of thamos' calls as JSON, without its model."""
    return json.loads(call(_preload_content=False, **parameters).data)


def main(base_url: str) -> None:
    configuration = Configuration()
    configuration.host = base_url
    client = ApiClient(configuration=configuration)
    packages = PythonPackagesApi(client)
    environments = EnvironmentsApi(client)

    listing, status, headers = packages.list_python_packages_with_http_info(page=0, per_page=2)
    answers = {
        "environments": environments.list_python_environments().to_dict(),
        "indexes": packages.list_python_package_indexes().to_dict(),
        "platform": packages.get_python_platform().to_dict(),
        "packages": listing.to_dict(),
        "packages_status": status,
        "packages_headers": {name.lower(): value for name, value in headers.items()},
        "versions": packages.list_python_package_versions(name="requests", order_by="DESC").to_dict(),
        "version_environments": packages.list_python_package_version_environments(
            name="requests", version="2.26.0", index=PYPI
        ).to_dict(),
        "dependencies": unmodelled(packages.get_python_package_dependencies, **REQUESTS_ON_RHEL),
        "metadata": unmodelled(packages.get_python_package_version_metadata, **REQUESTS_ON_RHEL),
    }
    try:
        packages.list_python_package_versions(name="no-such-package")
        answers["unknown"] = None
    except ApiException as error:
        answers["unknown"] = {"status": error.status, "body": json.loads(error.body)}
    print(json.dumps(answers, default=str))


if __name__ == "__main__":
    main(sys.argv[1])
