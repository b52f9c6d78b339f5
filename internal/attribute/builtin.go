package attribute

// Builtin is a standard attribute of contacts or companies.
type Builtin struct {
	Name        string // also the search field name
	Label       string
	DataType    string
	Description string
	APIWritable bool
	// Column is the SQL column (on the contacts or companies table) the
	// attribute is stored in; empty for attributes that are not columns.
	Column string
}

// ContactBuiltins are the standard contact attributes, in display order.
var ContactBuiltins = []Builtin{
	{"id", "ID", TypeString, "The Intercom-compatible id of the contact.", false, "id"},
	{"role", "Role", TypeString, "user or lead.", true, "role"},
	{"name", "Name", TypeString, "The contact's name.", true, "name"},
	{"email", "Email", TypeString, "The contact's email.", true, "email"},
	{"email_domain", "Email domain", TypeString, "The domain of the contact's email.", false, ""},
	{"phone", "Phone", TypeString, "The contact's phone number.", true, "phone"},
	{"external_id", "User ID", TypeString, "Your own id for the contact.", true, "external_id"},
	{"owner_id", "Owner", TypeInteger, "The teammate who owns the contact.", true, "owner_id"},
	{"avatar", "Avatar", TypeString, "The URL of the contact's avatar image.", true, "avatar"},
	{"created_at", "Created at", TypeDate, "When the contact was created.", false, "created_at"},
	{"updated_at", "Updated at", TypeDate, "When the contact was last updated.", false, "updated_at"},
	{"signed_up_at", "Signed up", TypeDate, "When the user signed up.", true, "signed_up_at"},
	{"last_seen_at", "Last seen", TypeDate, "When the contact was last seen.", true, "last_seen_at"},
	{"last_replied_at", "Last replied", TypeDate, "When the contact last wrote.", false, "last_replied_at"},
	{"last_contacted_at", "Last contacted", TypeDate, "When the contact was last written to.", false, "last_contacted_at"},
	{"last_email_opened_at", "Last opened email", TypeDate, "When the contact last opened an email.", false, "last_email_opened_at"},
	{"last_email_clicked_at", "Last clicked on link in email", TypeDate, "When the contact last clicked a link in an email.", false, "last_email_clicked_at"},
	{"unsubscribed_from_emails", "Unsubscribed from emails", TypeBoolean, "Whether the contact unsubscribed from emails.", true, "unsubscribed_from_emails"},
	{"has_hard_bounced", "Has hard bounced", TypeBoolean, "Whether an email to the contact hard bounced.", false, "has_hard_bounced"},
	{"marked_email_as_spam", "Marked email as spam", TypeBoolean, "Whether the contact marked an email as spam.", false, "marked_email_as_spam"},
	{"language_override", "Language override", TypeString, "The Messenger language chosen for the contact.", true, "language_override"},
	{"browser", "Browser", TypeString, "The contact's browser.", false, "browser"},
	{"browser_version", "Browser version", TypeString, "The contact's browser version.", false, "browser_version"},
	{"browser_language", "Browser language", TypeString, "The contact's browser language.", false, "browser_language"},
	{"os", "OS", TypeString, "The contact's operating system.", false, "os"},
	{"location.country", "Country", TypeString, "The contact's country.", false, "location_country"},
	{"location.region", "Region", TypeString, "The contact's region.", false, "location_region"},
	{"location.city", "City", TypeString, "The contact's city.", false, "location_city"},
}

// CompanyBuiltins are the standard company attributes.
var CompanyBuiltins = []Builtin{
	{"id", "Company ID", TypeString, "Parley's id of the company.", false, "id"},
	{"company_id", "Company ID (yours)", TypeString, "Your own id for the company.", true, "company_id"},
	{"name", "Company name", TypeString, "The company's name.", true, "name"},
	{"plan", "Plan", TypeString, "The company's plan.", true, "plan"},
	{"size", "Company size", TypeInteger, "The number of employees.", true, "size"},
	{"website", "Website", TypeString, "The company's website.", true, "website"},
	{"industry", "Industry", TypeString, "The company's industry.", true, "industry"},
	{"monthly_spend", "Monthly spend", TypeFloat, "How much the company pays you a month.", true, "monthly_spend"},
	{"session_count", "Company web sessions", TypeInteger, "Number of web sessions.", false, "session_count"},
	{"user_count", "Users", TypeInteger, "Number of users in the company.", false, ""},
	{"remote_created_at", "Company created at", TypeDate, "When the company was created in your system.", true, "remote_created_at"},
	{"created_at", "First seen", TypeDate, "When the company was created in Parley.", false, "created_at"},
	{"last_request_at", "Last seen", TypeDate, "When a user of the company was last seen.", false, "last_request_at"},
}

// Builtins returns the built-in attributes of a model.
func Builtins(model string) []Builtin {
	if model == ModelCompany {
		return CompanyBuiltins
	}
	return ContactBuiltins
}

// IsBuiltin reports whether name is a standard attribute of the model.
func IsBuiltin(model, name string) bool {
	for _, b := range Builtins(model) {
		if b.Name == name {
			return true
		}
	}
	return false
}

// AsAttribute renders a built-in as a data_attribute.
func (b Builtin) AsAttribute(model string) *Attribute {
	full := b.Name
	if model == ModelCompany && b.Name != "company_id" {
		full = "companies." + b.Name
	}
	return &Attribute{Model: model, Name: b.Name, FullName: full, Label: b.Label, Description: b.Description,
		DataType: b.DataType, APIWritable: b.APIWritable, UIWritable: b.APIWritable}
}
