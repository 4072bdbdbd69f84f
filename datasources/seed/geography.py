"""Countries the seed covers: cities, currency and pay, phone format, universities.

Salary bands are annual amounts in the country's own currency for a mid-level backend
engineer; `SENIORITY_PAY` and the family's `salary_factor` scale them. The Indian band is
15-28 lakh (1,500,000-2,800,000 INR), the same band as the real Weekday AI posting.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Country:
    code: str  # ISO-3166 alpha-2
    name: str
    weight: int  # share of jobs and candidates
    cities: tuple[str, ...]
    currency: str  # ISO-4217
    mid_band: tuple[int, int]
    pay_step: int  # amounts are rounded to a multiple of this
    phone: str  # '#' is a random digit
    name_locale: str  # which name pool candidates from here draw from
    universities: tuple[str, ...]


# fmt: off
COUNTRIES: tuple[Country, ...] = (
    Country("IN", "India", 30,
            ("Mumbai", "Bengaluru", "Pune", "Hyderabad", "Chennai", "Gurugram", "Noida"),
            "INR", (1_500_000, 2_800_000), 50_000, "+91 9#### #####", "en_IN",
            ("IIT Bombay", "IIT Delhi", "IIT Madras", "BITS Pilani", "NIT Trichy",
             "VJTI Mumbai", "University of Mumbai", "Anna University", "IIIT Hyderabad",
             "Delhi Technological University", "Manipal Institute of Technology",
             "VIT Vellore", "College of Engineering Pune")),
    Country("US", "United States", 22,
            ("San Francisco", "New York", "Seattle", "Austin", "Boston", "Chicago", "Denver"),
            "USD", (115_000, 155_000), 1_000, "+1 (4##) ###-####", "en_US",
            ("University of Texas at Austin", "Georgia Institute of Technology",
             "University of Washington", "University of Michigan", "Carnegie Mellon University",
             "UC Berkeley", "Purdue University", "Arizona State University",
             "University of Illinois Urbana-Champaign")),
    Country("GB", "United Kingdom", 10,
            ("London", "Manchester", "Edinburgh", "Bristol", "Cambridge"),
            "GBP", (55_000, 75_000), 1_000, "+44 7### ######", "en_GB",
            ("University of Manchester", "Imperial College London", "University of Edinburgh",
             "University of Bristol", "University College London", "University of Warwick")),
    Country("DE", "Germany", 8, ("Berlin", "Munich", "Hamburg", "Frankfurt"),
            "EUR", (60_000, 78_000), 1_000, "+49 15# ########", "de_DE",
            ("TU München", "KIT Karlsruhe", "RWTH Aachen", "TU Berlin", "Universität Hamburg")),
    Country("NL", "Netherlands", 5, ("Amsterdam", "Rotterdam", "Utrecht", "Eindhoven"),
            "EUR", (55_000, 72_000), 1_000, "+31 6 ########", "nl_NL",
            ("TU Delft", "University of Amsterdam", "Eindhoven University of Technology",
             "Utrecht University")),
    Country("FR", "France", 5, ("Paris", "Lyon", "Toulouse", "Nantes"),
            "EUR", (45_000, 60_000), 1_000, "+33 6 ## ## ## ##", "fr_FR",
            ("École Polytechnique", "EPITA", "Université Paris-Saclay", "INSA Lyon")),
    Country("ES", "Spain", 4, ("Madrid", "Barcelona", "Valencia", "Málaga"),
            "EUR", (36_000, 50_000), 1_000, "+34 6## ### ###", "es_ES",
            ("Universidad Politécnica de Madrid", "Universitat Politècnica de Catalunya",
             "Universitat de València", "Universidad de Málaga")),
    Country("CA", "Canada", 6, ("Toronto", "Vancouver", "Montreal", "Ottawa"),
            "CAD", (95_000, 125_000), 1_000, "+1 (6##) ###-####", "en_US",
            ("University of Waterloo", "University of Toronto", "McGill University",
             "University of British Columbia")),
    Country("SG", "Singapore", 4, ("Singapore",),
            "SGD", (84_000, 120_000), 1_000, "+65 8### ####", "sg",
            ("National University of Singapore", "Nanyang Technological University",
             "Singapore Management University")),
    Country("AU", "Australia", 6, ("Sydney", "Melbourne", "Brisbane"),
            "AUD", (115_000, 145_000), 1_000, "+61 4## ### ###", "en_GB",
            ("University of Sydney", "UNSW Sydney", "University of Melbourne",
             "Monash University")),
)
# fmt: on
BY_CODE: dict[str, Country] = {c.code: c for c in COUNTRIES}
COUNTRY_WEIGHTS: tuple[int, ...] = tuple(c.weight for c in COUNTRIES)

SENIORITY_PAY: dict[str, float] = {
    "intern": 0.3,
    "junior": 0.55,
    "mid": 1.0,
    "senior": 1.45,
    "lead": 1.8,
    "principal": 2.2,
}

# Romanised names for Singapore, which Faker has no locale for.
SG_FIRST: tuple[str, ...] = (
    "Wei Jie",
    "Jia Hui",
    "Li Ting",
    "Jun Wei",
    "Xin Yi",
    "Zhi Hao",
    "Siti",
    "Nur Aisyah",
    "Muhammad Irfan",
    "Daniel",
    "Rachel",
    "Kavitha",
    "Arjun",
    "Hui Min",
    "Kai Xiang",
)
SG_LAST: tuple[str, ...] = (
    "Tan",
    "Lim",
    "Lee",
    "Ng",
    "Ong",
    "Wong",
    "Goh",
    "Chua",
    "Koh",
    "Teo",
    "Chan",
    "Yeo",
    "Ang",
    "Rahman",
    "Ismail",
    "Pillai",
    "Nair",
)

DEGREES_IN: tuple[str, ...] = ("B.Tech", "B.E.", "M.Tech", "MCA", "B.Sc", "M.Sc")
DEGREES: tuple[str, ...] = ("BSc", "BEng", "MSc", "MEng", "BA", "PhD")
FIELDS: tuple[str, ...] = (
    "Computer Science",
    "Information Technology",
    "Software Engineering",
    "Electronics and Communication",
    "Electrical Engineering",
    "Mathematics",
    "Statistics",
    "Data Science",
    "Physics",
)


def fill_digits(template: str, number: int) -> str:
    """Replace each '#' in `template` with the next digit of `number` (zero-padded)."""
    width = template.count("#")
    digits = iter(f"{number % 10**width:0{width}d}")
    return "".join(next(digits) if ch == "#" else ch for ch in template)
