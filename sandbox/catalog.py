"""Static business data shared by every scenario: the studio, its calendars, services, products and names."""

from __future__ import annotations

from sandbox.records import Addon, AppointmentType, Calendar, CertificateProduct, Profile

ACCOUNT_TZ = "America/New_York"

PROFILE = Profile(
    name="Serenity Wellness Studio",
    email="owner@serenitywellness.example",
    timezone=ACCOUNT_TZ,
    scheduling_page="https://serenitywellness.as.me/",
    owner="1a2b3c4d",
)

CALENDARS = (
    Calendar(
        4102201,
        "Dr. Maya Ellison",
        "maya@serenitywellness.example",
        "America/New_York",
        "120 W 23rd St, New York, NY",
        "Founder, integrative therapist",
        image="https://cdn.acuityscheduling.example/calendar/4102201.jpg",
        thumbnail="https://cdn.acuityscheduling.example/calendar/4102201-thumb.jpg",
    ),
    Calendar(
        4102202,
        "Jordan Reyes",
        "jordan@serenitywellness.example",
        "America/Chicago",
        "233 S Wacker Dr, Chicago, IL",
        "Massage therapist",
    ),
    Calendar(
        4102203,
        "Priya Nair",
        "priya@serenitywellness.example",
        "America/Los_Angeles",
        "1401 Ocean Ave, Santa Monica, CA",
        "Nutrition coach",
        image="https://cdn.acuityscheduling.example/calendar/4102203.png",
        thumbnail="https://cdn.acuityscheduling.example/calendar/4102203-thumb.png",
    ),
    Calendar(
        4102204,
        "Oliver Grant",
        "oliver@serenitywellness.example",
        "Europe/London",
        "Telehealth (Zoom)",
        "Remote sessions for UK clients",
    ),
)
# Relative booking volume per calendar, in CALENDARS order.
CALENDAR_WEIGHTS = (45, 25, 20, 10)

_ALL = tuple(c.id for c in CALENDARS)
# Add-ons booked with a service; each adds its price and minutes to the appointment's (Acuity: "the amount that the
# price and time should change"). Staff alone can add a private one.
ADDONS = (
    Addon(3301, "Hot Stone Upgrade", "25.00", 0),
    Addon(3302, "Aromatherapy", "15.00", 0),
    Addon(3303, "Extra 15 Minutes", "30.00", 15, private=True),
)
# Intake forms: (form id, form name, ((field id, field name, answers people give), ...)); "" is a skipped field.
FORMS = (
    (
        771001,
        "Intake",
        (
            (5501, "How did you hear about us?", ("Instagram", "Google", "A friend", "Yelp", "Walked past the studio")),
            (5502, "Any injuries we should know about?", ("None", "Old knee injury", "Lower back pain", "")),
            (5503, "What would you like to focus on?", ("Stress", "Sleep", "Mobility", "Nutrition", "")),
        ),
    ),
    (
        771002,
        "Massage Preferences",
        (
            (5511, "Preferred pressure", ("Light", "Medium", "Firm")),
            (5512, "Areas to avoid", ("", "Feet", "Neck", "Abdomen")),
        ),
    ),
)
_TYPE_IMAGE = "https://cdn.acuityscheduling.example/appointment-type/{}.jpg"
APPOINTMENT_TYPES = (
    AppointmentType(
        18204411,
        "Initial Consultation",
        "A first 60-minute assessment.",
        60,
        "120.50",
        "Consultations",
        "#E3DE7C",
        _ALL,
        form_ids=(771001,),
        image=_TYPE_IMAGE.format(18204411),
    ),
    AppointmentType(18204412, "Follow-up Session", "Check in on progress.", 30, "55", "Sessions", "#9ED1F0", _ALL),
    AppointmentType(
        18204413,
        "Deep Tissue Massage",
        "Therapeutic massage.",
        90,
        "150.00",
        "Massage",
        "#F29C9C",
        (4102201, 4102202),
        addon_ids=(3301, 3302, 3303),
        form_ids=(771001, 771002),
        image=_TYPE_IMAGE.format(18204413),
    ),
    AppointmentType(
        18204414,
        "Free Discovery Call",
        "No-obligation intro call.",
        15,
        "0.00",
        "Consultations",
        "#B5E8A7",
        _ALL,
    ),
    AppointmentType(
        18204415,
        "Couples Session",
        "Session for two.",
        75,
        "210.00",
        "Sessions",
        "#C9A7E8",
        (4102201, 4102203),
        addon_ids=(3302,),
        form_ids=(771001,),
    ),
    AppointmentType(
        18204416,
        "Virtual Check-in",
        "Short video check-in.",
        20,
        "35.00",
        "Telehealth",
        "#F2D29C",
        (4102201, 4102204),
    ),
    AppointmentType(
        18204417,
        "Group Meditation",
        "A guided group class.",
        45,
        "20.00",
        "Classes",
        "#A7D8E8",
        (4102201, 4102203),
        kind="class",
        class_size=12,
    ),
    AppointmentType(
        18204401,
        "Legacy Intro Package",
        "Retired offer.",
        45,
        "99.00",
        "Sessions",
        "#CCCCCC",
        _ALL,
        active=False,
    ),
    AppointmentType(
        18204402,
        "Summer Detox Program",
        "Retired seasonal program.",
        60,
        "85.00",
        "Sessions",
        "#DDDDDD",
        (4102201, 4102203),
        active=False,
        form_ids=(771001,),
    ),
)
# Historical appointments older than this many days may be on a type retired since (shown with includeDeleted).
RETIRED_TYPES_BEFORE_DAYS = 180

# (title, total) — totals keep Acuity's inconsistent money formats on purpose.
PRODUCTS = (
    ("Massage Gift Certificate", "85.00"),
    ("5-Session Package", "250"),
    ("10-Session Package", "480.00"),
    ("Aromatherapy Candle", "24.50"),
    ("Monthly Membership", "120.50"),
    ("Essential Oil Set", "55"),
    ("Yoga Mat", "39.99"),
    ("Wellness Journal", "18"),
)
FREE_PRODUCT = ("Complimentary Guest Pass", "0.00")
CUSTOM_PRODUCT = "Custom Wellness Package"
# The products above that issue a code when their order is paid (packages, a gift certificate, a subscription), by
# order title; the rest are goods. Count packages allow so many appointments of each type.
_FOLLOW_UP, _MASSAGE, _VIRTUAL, _CLASS = 18204412, 18204413, 18204416, 18204417
CERTIFICATE_PRODUCTS = {
    product.name: product
    for product in (
        CertificateProduct(6101, "Massage Gift Certificate", "value", (_MASSAGE,), value="85.00", expires_days=365),
        CertificateProduct(6102, "5-Session Package", "appointments", counts=((_FOLLOW_UP, 3), (_VIRTUAL, 2))),
        CertificateProduct(
            6103, "10-Session Package", "appointments", counts=((_FOLLOW_UP, 5), (_VIRTUAL, 5)), expires_days=365
        ),
        CertificateProduct(
            6104, "Monthly Membership", "appointments", counts=((_CLASS, 4), (_FOLLOW_UP, 2)), expires_days=31
        ),
        CertificateProduct(6105, "Complimentary Guest Pass", "appointments", counts=((_VIRTUAL, 1),), expires_days=90),
    )
}
# Coupon codes: a percentage off the price, shown as priceSold below price. Acuity takes one code per appointment.
WELCOME_COUPON = ("WELCOME20", "0.20")
REFERRAL_COUPON = ("FRIEND-{:06X}", "0.10")  # one single-use code per referral

FIRST_NAMES = (
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Christopher",
    "Lisa",
    "Daniel",
    "Nancy",
    "Matthew",
    "Betty",
    "Anthony",
    "Sandra",
    "Mark",
    "Margaret",
    "Donald",
    "Ashley",
    "Steven",
    "Kimberly",
    "Andrew",
    "Emily",
    "Paul",
    "Donna",
    "Joshua",
    "Michelle",
    "Kenneth",
    "Carol",
    "Kevin",
    "Amanda",
    "Brian",
    "Melissa",
    "George",
    "Deborah",
    "Timothy",
    "Stephanie",
    "Ronald",
    "Rebecca",
    "Jason",
    "Sharon",
    "Edward",
    "Laura",
    "Jeffrey",
    "Cynthia",
    "Ryan",
    "Amy",
    "Jacob",
    "Kathleen",
    "Gary",
    "Angela",
    "Nicholas",
    "Shirley",
    "Eric",
    "Brenda",
    "Jonathan",
    "Emma",
    "Aisha",
    "Mateo",
    "Priya",
    "Chen",
    "Olga",
    "Siobhan",
    "Tariq",
    "Yuki",
    "Ines",
    "Kwame",
)
LAST_NAMES = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Okafor",
    "Patel",
    "Kim",
    "O'Brien",
    "Murphy",
    "Cohen",
    "Schmidt",
    "Rossi",
    "Dubois",
    "Novak",
    "Fischer",
    "Haddad",
    "Yamamoto",
    "Kowalski",
    "Singh",
    "Andersen",
    "MacLeod",
    "Costa",
    "Ivanova",
    "Mensah",
)
# Surnames that no client has, so walk-ins can never match by name.
OUTSIDER_LAST_NAMES = ("Vandermeer", "Quintanilla", "Abernathy-Lowe", "Przybylski", "Oyelaran", "Thistlewood")

EMAIL_DOMAINS = (
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "icloud.com",
    "hotmail.com",
    "aol.com",
    "proton.me",
    "comcast.net",
)
WORK_DOMAINS = ("acme-corp.com", "northwind.io", "globex.com", "initech.net", "umbrella-health.org")
US_AREA_CODES = (
    "212",
    "646",
    "718",
    "917",
    "312",
    "773",
    "415",
    "310",
    "213",
    "617",
    "305",
    "404",
    "512",
    "206",
)

CLIENT_NOTES = (
    "Prefers morning slots",
    "Allergic to lavender oil",
    "Referred by a friend",
    "Pays with HSA card",
    "Requested a quiet room",
)
APPOINTMENT_NOTES = (
    "Running 5 minutes late",
    "First visit — please arrive early",
    "Lower back focus",
    "Rescheduled by phone",
)
ORDER_NOTES = ("Gift for my sister", "Please email the certificate", "")
LABELS = ((9101, "Checked In", "green"), (9102, "Needs Follow-up", "orange"), (9103, "VIP", "purple"))
SUB_CALENDAR_IDS = (27238, 27239)
# Acuity's payment processors; an appointment may be paid in several transactions (a deposit, then the rest).
PROCESSORS = ("stripe", "square", "paypal", "authorize.net")
SCHEDULERS = ("Front Desk", "maya@serenitywellness.example", "jordan@serenitywellness.example")
