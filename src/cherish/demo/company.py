"""The demo company: a coffee and tea retailer with eight shops, a web shop, an app and a service team."""

from __future__ import annotations

from dataclasses import dataclass

CHANNELS = ("web", "app", "store", "phone", "email", "chat", "social")

# (city, street address, postcode, state, quality): quality shifts scores; Riverside is the weak branch.
BRANCHES = (
    ("Portland Pearl", "Portland", "97209", "OR", 0.3),
    ("Seattle Capitol Hill", "Seattle", "98102", "WA", 0.2),
    ("Boise Downtown", "Boise", "83702", "ID", 0.1),
    ("Spokane Riverside", "Spokane", "99201", "WA", -1.6),
    ("Eugene Campus", "Eugene", "97401", "OR", 0.0),
    ("Tacoma Stadium", "Tacoma", "98403", "WA", 0.1),
    ("Salem Commercial", "Salem", "97301", "OR", -0.1),
    ("Bend Old Mill", "Bend", "97702", "OR", 0.4),
)

_FIRST = ("Ava Liam Olivia Noah Emma Oliver Sophia Elijah Isabella James Mia Benjamin Amelia Lucas Harper Mason "
          "Evelyn Ethan Abigail Logan Emily Jacob Ella Jackson Elizabeth Aiden Camila Sebastian Luna Mateo Sofia "
          "Henry Avery Owen Mila Samuel Aria Daniel Scarlett Michael Penelope Alexander Layla William Chloe Wyatt "
          "Victoria Jack Madison Leo Eleanor Julian Grace Levi Nora Isaac Riley Gabriel Zoey Anthony Hannah Dylan "
          "Hazel Lincoln Lily Thomas Ellie Maya Ravi Priya Chen Wei Mei Hiroshi Yuki Omar Fatima Carlos Lucia "
          "Diego Valentina Ana Jose Kwame Amara Ingrid Lars Siobhan Declan").split()
_LAST = ("Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez "
         "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez "
         "Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker "
         "Hall Rivera Campbell Mitchell Carter Roberts Patel Shah Kim Park Chen Wang Tanaka Sato Okafor Mensah "
         "Novak Kowalski Jensen Larsen O'Brien Murphy Kelly Schmidt Fischer Weber Rossi Bianchi Silva Costa").split()
FIRST_NAMES, LAST_NAMES = tuple(_FIRST), tuple(_LAST)
STREETS = ("Oak St", "Maple Ave", "Cedar Ln", "Pine St", "Elm St", "Lakeview Dr", "Hillcrest Rd", "Park Ave",
           "Sunset Blvd", "Washington St", "Lincoln Ave", "Jefferson St", "Willow Way", "River Rd", "Meadow Ln")
EMAIL_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "proton.me", "fastmail.com", "hey.com")


@dataclass(frozen=True)
class Product:
    product_id: str
    sku: str
    name: str
    category: str
    price: float


def _catalog() -> tuple[Product, ...]:
    items = {
        "Coffee beans": [("Ethiopia Yirgacheffe", 18.5), ("Colombia Huila", 16.0), ("House Espresso", 14.5),
                         ("Kenya AA", 21.0), ("Decaf Sumatra", 15.5), ("Guatemala Antigua", 17.0),
                         ("Brazil Cerrado", 13.5), ("Seasonal Single Origin", 22.0)],
        "Tea": [("Darjeeling First Flush", 12.0), ("Sencha", 10.5), ("Earl Grey", 9.0), ("Chamomile", 8.0),
                ("Oolong Tie Guan Yin", 14.0), ("Masala Chai", 9.5)],
        "Brewing equipment": [("Pour-over Dripper", 28.0), ("French Press", 35.0), ("Burr Grinder", 129.0),
                              ("Gooseneck Kettle", 69.0), ("Espresso Machine", 449.0), ("Cold Brew Jar", 32.0),
                              ("Digital Scale", 45.0)],
        "Accessories": [("Paper Filters (100)", 6.5), ("Ceramic Mug", 16.0), ("Travel Tumbler", 29.0),
                        ("Milk Frother", 39.0), ("Cleaning Tablets", 12.0)],
        "Gifts": [("Tasting Flight Gift Box", 48.0), ("Gift Card 25", 25.0), ("Gift Card 50", 50.0),
                  ("Coffee Subscription 3 months", 54.0)],
        "Pastries": [("Croissant", 3.75), ("Cardamom Bun", 4.25), ("Banana Bread", 3.5)],
    }
    products = []
    for category, entries in items.items():
        prefix = "".join(word[0] for word in category.split()).upper()
        for i, (name, price) in enumerate(entries, start=1):
            products.append(Product(f"p-{prefix.lower()}-{i:02d}", f"{prefix}-{i:03d}", name, category, price))
    return tuple(products)


CATALOG = _catalog()
EMPLOYEES: tuple[tuple[str, str], ...] = tuple(
    # (employee id, where they work: a branch name or a service channel)
    [(f"emp-{i + 1:03d}", BRANCHES[i % len(BRANCHES)][0]) for i in range(22)]
    + [(f"emp-{i + 23:03d}", ("phone", "chat", "email", "social")[i % 4]) for i in range(8)]
)
