"""Building a concrete URL for any route, with objects made by tests/factories — shared by
the scope matrix and the CSRF test, so routes added later are covered by both."""

import re

from tests import factories

PLACEHOLDER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint != "static"]


def rule_access(app, rule):
    return app.view_functions[rule.endpoint]._access


def build(rule, objects):
    """The URL with each object's id, and the first choice of each <any(...)> part."""
    def fill(m):
        name = m.group(2)
        if name in objects:
            return str(objects[name].id)
        converter = rule._converters[name]
        if hasattr(converter, "items"):
            return sorted(converter.items)[0]
        return "1"
    return PLACEHOLDER.sub(fill, rule.rule)


def make_objects(access, org, cache: dict | None = None):
    """The route's objects of `org`, from tests/factories; with `cache`, each (model, organisation)
    is made once — a test visiting hundreds of routes in one transaction would otherwise keep a
    PostgreSQL lock for every savepoint the factories released, and fill the server's lock table."""
    made = {}
    for arg, model in access.objects.items():
        factory = factories.OBJECT_FACTORIES.get(model.__name__)
        assert factory, f"tests/factories OBJECT_FACTORIES has no factory for {model.__name__}"
        if cache is None:
            made[arg] = factory(org)
            continue
        key = (model.__name__, org.id)
        if key not in cache:
            cache[key] = factory(org)
        made[arg] = cache[key]
    return made
